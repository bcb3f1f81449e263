import { run } from './cleanup';

void run();

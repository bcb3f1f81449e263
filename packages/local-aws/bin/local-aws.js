#!/usr/bin/env node
'use strict';
// The stand-in is written in TypeScript; tsx compiles it on the fly.
require('tsx/cjs');
require('../src/cli.ts');

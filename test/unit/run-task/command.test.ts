import { parseCommand } from '../../../actions/run-task/src/command';

test.each([
  ['npx prisma migrate deploy', ['npx', 'prisma', 'migrate', 'deploy']],
  ['  sh  -c   "echo hi && exit 3" ', ['sh', '-c', 'echo hi && exit 3']],
  [`python -c 'print("a b")'`, ['python', '-c', 'print("a b")']],
  ['echo "say \\"hi\\"" a\\ b', ['echo', 'say "hi"', 'a b']],
  ['echo ""', ['echo', '']],
  ['["node", "dist/crawl.js", "--full"]', ['node', 'dist/crawl.js', '--full']],
  ['echo $HOME *', ['echo', '$HOME', '*']],
])('%s splits into words without expansion', (text, argv) => {
  expect(parseCommand(text)).toEqual({ argv });
});

test.each([
  ['["node", "-e"', 'it does not parse'],
  ['["node", 3]', 'a JSON array of strings'],
  ['[]', 'at least one string'],
  [`echo 'open`, "a `'` is not"],
  ['echo "open', 'a `"` is not'],
  ['   ', 'at least one word'],
])('%s is refused: %s', (text, message) => {
  const r = parseCommand(text);
  expect('error' in r && r.error).toContain(message);
});

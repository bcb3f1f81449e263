import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigurationError } from '../../../packages/kit/src/errors';
import { parseRepository, type RepositoryRef } from '../../../packages/image/src/reference';

/** One line of the `images` input, validated. */
export interface ImageInput {
  /** The line as written. */
  line: string;
  /** The container the image is for (ecs-deploy's `container-images`). */
  container: string;
  repository: RepositoryRef;
  /** Absolute build context directory. */
  context: string;
  /** Absolute Dockerfile path, when the line names one. */
  file?: string;
}

/** What checking the lines needs from the rest of the inputs. */
export interface ImageLinesContext {
  /** The workspace that contexts and Dockerfiles are relative to. */
  workspace: string;
  /** Refuses a registry ECR's API does not manage (throws, naming `images`). */
  checkRegistry(text: string, registry: string | undefined): void;
  /** The repository form, for the error message. */
  repositoryForm: string;
  /** Dockerfile names looked for in a context when the line names none. */
  defaultFiles: readonly string[];
}

const LINE_FORM =
  '`<repository>=<context>[:<dockerfile>]`, optionally `<container>@<repository>=…` (one image per line)';
/** ECS container names: up to 255 letters, digits, `_` and `-`. */
const CONTAINER = /^[A-Za-z0-9_-]{1,255}$/;

function fail(n: number, line: string, why: string): never {
  throw new ConfigurationError(
    `Input \`images\` line ${n} (\`${line.length > 200 ? `${line.slice(0, 200)}…` : line}\`) ${why}.`,
  );
}

/**
 * Parses and checks every line of the `images` input before anything is called: the form, each
 * repository (as `repository` is checked), each context and Dockerfile, container names fit for
 * ECS and unique, repositories unique and all in one registry.
 */
export function parseImageLines(lines: string[], ctx: ImageLinesContext): ImageInput[] {
  const images: ImageInput[] = [];
  for (const [i, line] of lines.entries()) {
    const n = i + 1;
    const eq = line.indexOf('=');
    if (eq <= 0 || eq === line.length - 1) fail(n, line, `must be ${LINE_FORM}`);
    const left = line.slice(0, eq).trim();
    const right = line.slice(eq + 1).trim();
    const at = left.indexOf('@');
    const named = at >= 0 ? left.slice(0, at).trim() : undefined;
    const repositoryText = at >= 0 ? left.slice(at + 1).trim() : left;
    const repository = parseRepository(repositoryText);
    if (!repository) fail(n, line, `must name a repository: ${ctx.repositoryForm}`);
    ctx.checkRegistry(repositoryText, repository.registry);
    const lastSegment = repository.repository.split('/').pop() as string;
    const container = named ?? lastSegment;
    if (!CONTAINER.test(container)) {
      fail(
        n,
        line,
        named !== undefined
          ? `names the container \`${container}\`: a container name is 1 to 255 letters, digits, \`_\` and \`-\``
          : `gives the container the name \`${container}\` (the repository's last segment), which ECS does not accept (letters, digits, \`_\` and \`-\`): name it with \`<container>@${repositoryText}=…\``,
      );
    }
    const colon = right.indexOf(':');
    const contextText = colon >= 0 ? right.slice(0, colon).trim() : right;
    const fileText = colon >= 0 ? right.slice(colon + 1).trim() : undefined;
    if (!contextText || fileText === '') fail(n, line, `must be ${LINE_FORM}`);
    const context = resolve(ctx.workspace, contextText);
    if (!existsSync(context) || !statSync(context).isDirectory()) {
      fail(
        n,
        line,
        `names the build context \`${contextText}\`, which is not a directory of the workspace`,
      );
    }
    const file = fileText ? resolve(ctx.workspace, fileText) : undefined;
    if (file && (!existsSync(file) || !statSync(file).isFile())) {
      fail(
        n,
        line,
        `names the Dockerfile \`${fileText}\`, which is not a file of the workspace (Dockerfile paths are relative to the workspace, like \`file\`)`,
      );
    }
    if (!file && !ctx.defaultFiles.some((name) => existsSync(resolve(context, name)))) {
      fail(
        n,
        line,
        `has no Dockerfile in the build context \`${contextText}\`: add \`:<dockerfile>\``,
      );
    }
    const key = `${repository.registry ?? ''}/${repository.repository}`;
    const same = images.findIndex(
      (o) => `${o.repository.registry ?? ''}/${o.repository.repository}` === key,
    );
    if (same >= 0)
      fail(
        n,
        line,
        `names the repository \`${repositoryText}\` again (line ${same + 1}): build each repository once`,
      );
    const clash = images.findIndex((o) => o.container === container);
    if (clash >= 0) {
      fail(
        n,
        line,
        `gives the container name \`${container}\` again (line ${clash + 1}): name one with \`<container>@<repository>=…\``,
      );
    }
    const registries = new Set(images.map((o) => o.repository.registry).filter(Boolean));
    if (repository.registry && registries.size && !registries.has(repository.registry)) {
      fail(
        n,
        line,
        `names the registry \`${repository.registry}\`, another line \`${[...registries][0]}\`: one step pushes to one registry`,
      );
    }
    images.push({ line, container, repository, context, file });
  }
  return images;
}

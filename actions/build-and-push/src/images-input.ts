import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigurationError } from '../../../packages/kit/src/errors';
import {
  parseImageRef,
  parseRepository,
  type ImageRef,
  type RepositoryRef,
} from '../../../packages/image/src/reference';

/** What every `[<container>@]<repository>=…` line names on its left-hand side, validated. */
export interface RepositoryLine {
  /** The line as written. */
  line: string;
  /** The container the image is for (ecs-deploy's `container-images`). */
  container: string;
  repository: RepositoryRef;
}

/** One line of the `images` input, validated. */
export interface ImageInput extends RepositoryLine {
  /** Absolute build context directory. */
  context: string;
  /** Absolute Dockerfile path, when the line names one. */
  file?: string;
}

/** One line of `promote-from` in its one-image-per-line form, validated. */
export interface PromotionInput extends RepositoryLine {
  /** The image to promote into the line's repository (relative to it, as `promote-from` is). */
  from: ImageRef;
}

/** What checking the lines of any input needs from the rest of the inputs. */
interface LinesContext {
  /**
   * Why a registry cannot be used (ECR's API does not manage it), as a phrase that follows the
   * line (`names the registry …`); undefined when it can, or when none is named.
   */
  registryProblem(registry: string | undefined): string | undefined;
  /** The repository form, for the error message. */
  repositoryForm: string;
}

/** What checking the lines of `images` needs from the rest of the inputs. */
export interface ImageLinesContext extends LinesContext {
  /** The workspace that contexts and Dockerfiles are relative to. */
  workspace: string;
  /** Dockerfile names looked for in a context when the line names none. */
  defaultFiles: readonly string[];
}

/** What checking the lines of `promote-from` needs from the rest of the inputs. */
export interface PromotionLinesContext extends LinesContext {
  /** The image reference form, for the error message. */
  imageForm: string;
}

/** How one input's lines are read: its name, its form, and its right-hand side. */
interface LineGrammar<T> {
  input: string;
  /** The line form, for the error message. */
  form: string;
  /** What a repository named twice should be told. */
  once: string;
  /** Reads the text right of `=`; `fail` throws naming the input and the line. */
  right(text: string, fail: (why: string) => never): T;
}

/** ECS container names: up to 255 letters, digits, `_` and `-`. */
const CONTAINER = /^[A-Za-z0-9_-]{1,255}$/;

const IMAGES_FORM =
  '`<repository>=<context>[:<dockerfile>]`, optionally `<container>@<repository>=…` (one image per line)';
const PROMOTION_FORM =
  '`<repository>=<image reference>`, optionally `<container>@<repository>=…` (one image per line)';

/**
 * Parses and checks every `[<container>@]<repository>=<right-hand side>` line of an input before
 * anything is called: the form, each repository (as `repository` is checked), container names fit
 * for ECS and unique (default: the repository's last segment), repositories unique and all in one
 * registry; the right-hand side is the grammar's.
 */
function parseRepositoryLines<T>(
  lines: string[],
  ctx: LinesContext,
  grammar: LineGrammar<T>,
): (RepositoryLine & T)[] {
  const parsed: (RepositoryLine & T)[] = [];
  for (const [i, line] of lines.entries()) {
    const n = i + 1;
    const fail = (why: string): never => {
      throw new ConfigurationError(
        `Input \`${grammar.input}\` line ${n} (\`${line.length > 200 ? `${line.slice(0, 200)}…` : line}\`) ${why}.`,
      );
    };
    const eq = line.indexOf('=');
    if (eq <= 0 || eq === line.length - 1) fail(`must be ${grammar.form}`);
    const left = line.slice(0, eq).trim();
    const right = line.slice(eq + 1).trim();
    const at = left.indexOf('@');
    const named = at >= 0 ? left.slice(0, at).trim() : undefined;
    const repositoryText = at >= 0 ? left.slice(at + 1).trim() : left;
    const repository =
      parseRepository(repositoryText) ?? fail(`must name a repository: ${ctx.repositoryForm}`);
    const problem = ctx.registryProblem(repository.registry);
    if (problem) fail(`${problem}: the repository must be ${ctx.repositoryForm}`);
    const lastSegment = repository.repository.split('/').pop() as string;
    const container = named ?? lastSegment;
    if (!CONTAINER.test(container)) {
      fail(
        named !== undefined
          ? `names the container \`${container}\`: a container name is 1 to 255 letters, digits, \`_\` and \`-\``
          : `gives the container the name \`${container}\` (the repository's last segment), which ECS does not accept (letters, digits, \`_\` and \`-\`): name it with \`<container>@${repositoryText}=…\``,
      );
    }
    const value = grammar.right(right, fail);
    const key = `${repository.registry ?? ''}/${repository.repository}`;
    const same = parsed.findIndex(
      (o) => `${o.repository.registry ?? ''}/${o.repository.repository}` === key,
    );
    if (same >= 0) {
      fail(`names the repository \`${repositoryText}\` again (line ${same + 1}): ${grammar.once}`);
    }
    const clash = parsed.findIndex((o) => o.container === container);
    if (clash >= 0) {
      fail(
        `gives the container name \`${container}\` again (line ${clash + 1}): name one with \`<container>@<repository>=…\``,
      );
    }
    const registries = new Set(parsed.map((o) => o.repository.registry).filter(Boolean));
    if (repository.registry && registries.size && !registries.has(repository.registry)) {
      fail(
        `names the registry \`${repository.registry}\`, another line \`${[...registries][0]}\`: one step pushes to one registry`,
      );
    }
    parsed.push({ line, container, repository, ...value });
  }
  return parsed;
}

/**
 * Parses and checks every line of the `images` input before anything is called: the form, each
 * repository (as `repository` is checked), each context and Dockerfile, container names fit for
 * ECS and unique, repositories unique and all in one registry.
 */
export function parseImageLines(lines: string[], ctx: ImageLinesContext): ImageInput[] {
  return parseRepositoryLines(lines, ctx, {
    input: 'images',
    form: IMAGES_FORM,
    once: 'build each repository once',
    right: (text, fail) => {
      const colon = text.indexOf(':');
      const contextText = colon >= 0 ? text.slice(0, colon).trim() : text;
      const fileText = colon >= 0 ? text.slice(colon + 1).trim() : undefined;
      if (!contextText || fileText === '') fail(`must be ${IMAGES_FORM}`);
      const context = resolve(ctx.workspace, contextText);
      if (!existsSync(context) || !statSync(context).isDirectory()) {
        fail(
          `names the build context \`${contextText}\`, which is not a directory of the workspace`,
        );
      }
      const file = fileText ? resolve(ctx.workspace, fileText) : undefined;
      if (file && (!existsSync(file) || !statSync(file).isFile())) {
        fail(
          `names the Dockerfile \`${fileText}\`, which is not a file of the workspace (Dockerfile paths are relative to the workspace, like \`file\`)`,
        );
      }
      if (!file && !ctx.defaultFiles.some((name) => existsSync(resolve(context, name)))) {
        fail(`has no Dockerfile in the build context \`${contextText}\`: add \`:<dockerfile>\``);
      }
      return { context, file };
    },
  });
}

/** True when `promote-from` is in its one-image-per-line form (`=` appears only there). */
export function isPromotionLines(lines: string[]): boolean {
  return lines.some((line) => line.includes('='));
}

/**
 * Parses and checks every line of `promote-from` in its one-image-per-line form before anything is
 * called: the left-hand side as `images` checks it, the image reference as the one-image
 * `promote-from` is checked (relative to the line's repository: a bare tag or digest is one of
 * that repository, `other-repo@sha256:…` another repository of its registry).
 */
export function parsePromotionLines(lines: string[], ctx: PromotionLinesContext): PromotionInput[] {
  return parseRepositoryLines(lines, ctx, {
    input: 'promote-from',
    form: PROMOTION_FORM,
    once: 'promote into each repository once',
    right: (text, fail) => {
      const from = parseImageRef(text) ?? fail(`must promote ${ctx.imageForm}`);
      const problem = ctx.registryProblem(from.registry);
      if (problem) fail(`${problem}: the image to promote must be ${ctx.imageForm}`);
      return { from };
    },
  });
}

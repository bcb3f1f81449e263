import { ConfigurationError } from './errors';

/** States a GitHub deployment status can take. */
export type DeploymentState =
  'error' | 'failure' | 'inactive' | 'in_progress' | 'queued' | 'pending' | 'success';

/** Where the client talks to and as whom; read from the runner's environment by {@link githubContext}. */
export interface GitHubContext {
  apiUrl: string;
  /** `owner/name`. */
  repository: string;
  sha: string;
  /** The run's log URL, `<server>/<owner>/<name>/actions/runs/<id>`, when known. */
  logUrl?: string;
}

/** The run's GitHub context from `GITHUB_API_URL`, `GITHUB_REPOSITORY`, `GITHUB_SHA`, `GITHUB_SERVER_URL` and `GITHUB_RUN_ID`. */
export function githubContext(env: NodeJS.ProcessEnv = process.env): GitHubContext {
  const repository = env.GITHUB_REPOSITORY ?? '';
  const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  return {
    apiUrl: (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, ''),
    repository,
    sha: env.GITHUB_SHA ?? '',
    logUrl:
      repository && env.GITHUB_RUN_ID
        ? `${server}/${repository}/actions/runs/${env.GITHUB_RUN_ID}`
        : undefined,
  };
}

/** A GitHub REST error with its status and message. */
export class GitHubApiError extends Error {
  constructor(
    message: string,
    public readonly status: number,
  ) {
    super(message);
    this.name = 'GitHubApiError';
  }
}

/** What creating a deployment needs. */
export interface CreateDeploymentOptions {
  environment: string;
  /** Commit SHA (or ref) deployed; defaults to the run's commit. */
  ref?: string;
  /** `deploy` by default; rollback uses `deploy:rollback`. */
  task?: string;
  description?: string;
  payload?: Record<string, unknown>;
  productionEnvironment?: boolean;
}

/** What a status update carries. */
export interface StatusOptions {
  description?: string;
  environmentUrl?: string;
  logUrl?: string;
}

/**
 * A small client for the GitHub Deployments REST API (create a deployment, add statuses), on
 * Node's `fetch`. Requests time out after `timeoutMs` (default 10 s) and stop when `signal` aborts.
 */
export class GitHubDeployments {
  private readonly timeoutMs: number;

  constructor(
    private readonly token: string,
    private readonly context: GitHubContext = githubContext(),
    opts: { timeoutMs?: number } = {},
  ) {
    if (!token)
      throw new ConfigurationError(
        'A GitHub token is needed to record deployments: set input `github-token`.',
      );
    if (!/^[^/\s]+\/[^/\s]+$/.test(context.repository)) {
      throw new ConfigurationError(
        'GITHUB_REPOSITORY is not set to `owner/name`; GitHub Deployments cannot be recorded.',
      );
    }
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  private async request<T>(
    method: string,
    path: string,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<T> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const response = await fetch(`${this.context.apiUrl}/repos/${this.context.repository}${path}`, {
      method,
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${this.token}`,
        'content-type': 'application/json',
        'user-agent': 'shipkit',
        'x-github-api-version': '2022-11-28',
      },
      body: JSON.stringify(body),
      signal: combined,
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { message: text.slice(0, 200) };
    }
    if (!response.ok) {
      const message = (parsed as { message?: string }).message ?? response.statusText;
      throw new GitHubApiError(
        `GitHub ${method} ${path.replace(/\/\d+/g, '/{id}')} failed: HTTP ${response.status} ${message}`,
        response.status,
      );
    }
    return parsed as T;
  }

  /** Creates a deployment for `environment` at the commit; returns its id. */
  async create(opts: CreateDeploymentOptions, signal?: AbortSignal): Promise<number> {
    const created = await this.request<{ id?: number; message?: string }>(
      'POST',
      '/deployments',
      {
        ref: opts.ref || this.context.sha,
        environment: opts.environment,
        task: opts.task ?? 'deploy',
        description: opts.description?.slice(0, 140),
        payload: opts.payload ?? {},
        auto_merge: false,
        required_contexts: [],
        ...(opts.productionEnvironment !== undefined
          ? { production_environment: opts.productionEnvironment }
          : {}),
      },
      signal,
    );
    if (typeof created.id !== 'number') {
      throw new GitHubApiError(
        `GitHub did not create the deployment: ${created.message ?? 'no id returned'}`,
        202,
      );
    }
    return created.id;
  }

  /** Adds a status to deployment `id`; the run's log URL is attached unless given. */
  async setStatus(
    id: number,
    state: DeploymentState,
    opts: StatusOptions = {},
    signal?: AbortSignal,
  ): Promise<void> {
    await this.request(
      'POST',
      `/deployments/${id}/statuses`,
      {
        state,
        description: opts.description?.slice(0, 140),
        log_url: opts.logUrl ?? this.context.logUrl,
        ...(opts.environmentUrl ? { environment_url: opts.environmentUrl } : {}),
        auto_inactive: state === 'success' ? true : undefined,
      },
      signal,
    );
  }
}

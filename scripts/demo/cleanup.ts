/**
 * What the demo started, stopped in reverse order exactly once: at the end, on failure and on
 * Ctrl-C. Every step is awaited and its error kept, so one failing stop does not leave the
 * others running.
 */
export class Cleanup {
  private readonly steps: { what: string; run: () => Promise<void> | void }[] = [];
  private done: Promise<string[]> | undefined;

  /** Registers how to undo something just started (`what` names it in error messages). */
  add(what: string, run: () => Promise<void> | void): void {
    if (this.done) {
      // Started after cleanup began (a race with Ctrl-C): undo it at once.
      void Promise.resolve()
        .then(run)
        .catch(() => undefined);
      return;
    }
    this.steps.push({ what, run });
  }

  /** Runs every registered step, newest first; returns the problems met (empty when clean). */
  run(): Promise<string[]> {
    this.done ??= (async () => {
      const problems: string[] = [];
      for (const step of this.steps.reverse()) {
        try {
          await step.run();
        } catch (error) {
          problems.push(`${step.what}: ${(error as Error).message}`);
        }
      }
      return problems;
    })();
    return this.done;
  }
}

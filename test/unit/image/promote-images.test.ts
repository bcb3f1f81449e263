import { CancelledError } from '../../../packages/kit/src/errors';
import {
  promoteImages,
  PromotionsIncompleteError,
  type PromotionJob,
} from '../../../packages/image/src/promote-images';
import { SourceImageMissingError } from '../../../packages/image/src/publish';
import { FakeEcr } from './fake-ecr';

const noRegistry = async (): Promise<never> => {
  throw new Error('no registry traffic expected');
};

/** Three repositories, each holding a tested image under `abc1234` (the retag form needs no registry). */
function setUp(): { ecr: FakeEcr; jobs: PromotionJob[]; digests: string[] } {
  const ecr = new FakeEcr();
  const jobs: PromotionJob[] = [];
  const digests: string[] = [];
  for (const name of ['team/api', 'team/worker', 'team/web']) {
    jobs.push({ repository: ecr.addRepository(name), from: { tag: 'abc1234' } });
    digests.push(ecr.addImage(name, `${name} tested`, ['abc1234']).digest);
  }
  return { ecr, jobs, digests };
}

describe('promoting several images', () => {
  it('promotes each image into its repository under the tags, reporting each as it is done', async () => {
    const { ecr, jobs, digests } = setUp();
    const seen: string[] = [];
    const results = await promoteImages({
      ecr,
      host: ecr.host,
      jobs,
      tags: ['production', 'abc1234'],
      target: noRegistry,
      onPromoted: (result, job) => seen.push(`${job.repository.name} ${result.digest}`),
    });
    expect(results.map((r) => [r.digest, r.mode, r.tags])).toEqual(
      digests.map((d) => [
        d,
        'retag',
        [
          { tag: 'production', status: 'tagged' },
          { tag: 'abc1234', status: 'unchanged' },
        ],
      ]),
    );
    expect(seen).toEqual(jobs.map((j, i) => `${j.repository.name} ${digests[i]}`));
    for (const [i, name] of ['team/api', 'team/worker', 'team/web'].entries()) {
      expect((await ecr.describeImage(name, { tag: 'production' }))?.digest).toBe(digests[i]);
    }
  });

  it('names what was promoted already and what was not when one image fails, and stops there', async () => {
    const { ecr, jobs, digests } = setUp();
    jobs[1] = { ...jobs[1], from: { tag: 'missing' } };
    const attempt = promoteImages({
      ecr,
      host: ecr.host,
      jobs,
      tags: ['production'],
      target: noRegistry,
    });
    await expect(attempt).rejects.toThrow(PromotionsIncompleteError);
    await expect(attempt).rejects.toThrow(
      `Promoting \`${ecr.host}/team/worker\` (from \`${ecr.host}/team/worker:missing\`) failed: The image to promote, \`${ecr.host}/team/worker:missing\`, does not exist. Promoted already (their tags stay: tags only add, there is nothing to undo): \`${ecr.host}/team/api@${digests[0]}\`. Not promoted: \`${ecr.host}/team/worker\` (from \`${ecr.host}/team/worker:missing\`), \`${ecr.host}/team/web\` (from \`${ecr.host}/team/web:abc1234\`).`,
    );
    const error = (await attempt.catch((e: unknown) => e)) as PromotionsIncompleteError;
    expect(error.promoted.map((r) => r.digest)).toEqual([digests[0]]);
    expect(error.failed).toBe(1);
    expect(ecr.calls.filter((c) => c.startsWith('PutImage'))).toEqual([
      'PutImage team/api:production',
    ]);
  });

  it('says none was promoted when the first image fails', async () => {
    const { ecr, jobs } = setUp();
    jobs[0] = { ...jobs[0], from: { tag: 'missing' } };
    await expect(
      promoteImages({ ecr, host: ecr.host, jobs, tags: ['production'], target: noRegistry }),
    ).rejects.toThrow(
      'Promoted already (their tags stay: tags only add, there is nothing to undo): none. Not promoted: ',
    );
  });

  it('keeps a cancel a cancel, saying what was promoted already', async () => {
    const { ecr, jobs, digests } = setUp();
    const getManifest = ecr.getManifest.bind(ecr);
    ecr.getManifest = async (repository, image) => {
      if (repository === 'team/worker')
        throw new CancelledError('the workflow was cancelled (SIGTERM)');
      return getManifest(repository, image);
    };
    const attempt = promoteImages({
      ecr,
      host: ecr.host,
      jobs,
      tags: ['production'],
      target: noRegistry,
    });
    await expect(attempt).rejects.toThrow(CancelledError);
    await expect(attempt).rejects.toThrow(
      `the workflow was cancelled (SIGTERM). Promoted already (their tags stay: tags only add, there is nothing to undo): \`${ecr.host}/team/api@${digests[0]}\`. Not promoted: \`${ecr.host}/team/worker\``,
    );
  });

  it('throws the failure as it is when there is one image', async () => {
    const { ecr, jobs } = setUp();
    await expect(
      promoteImages({
        ecr,
        host: ecr.host,
        jobs: [{ ...jobs[0], from: { tag: 'missing' } }],
        tags: ['production'],
        target: noRegistry,
      }),
    ).rejects.toThrow(new SourceImageMissingError(`${ecr.host}/team/api:missing`));
  });
});

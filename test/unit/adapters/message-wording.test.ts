import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const GOLDEN = join(__dirname, '__golden__');
const goldens = readdirSync(GOLDEN).filter((f) => f.endsWith('.json'));

/** Issue 15: wording that reads the same in every message Keyturn sends (the goldens are those messages). */
describe('message wording across every golden message', () => {
  it.each(goldens)('%s never says "at today at": a pretty Slack date brings its own words', (file) => {
    const text = readFileSync(join(GOLDEN, file), 'utf8');
    expect(text).not.toMatch(/ at <!date\^\d+\^\{date_short_pretty\}/);
  });

  it.each(goldens)("%s puts [I'm done] before [Extend], as everywhere", (file) => {
    const text = readFileSync(join(GOLDEN, file), 'utf8');
    const done = text.indexOf('keyturn.grant.release');
    const extend = text.indexOf('"keyturn.grant.extend"');
    if (done >= 0 && extend >= 0) expect(done).toBeLessThan(extend);
  });
});

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * A reader of the repository has neither the tracker nor the work log: code and docs cite the
 * project's own pages (docs/contract.md §N, docs/benchmarks.md) and say what a number means,
 * never a tracker or work-log number, nor a contract kept outside the tree. (The patterns use
 * character classes so that this file does not match its own search.)
 */
const CITATIONS = [/\bissues?[ ]?#?\d+\b/i, /\bsessions?[ ]\d+\b/i, /\bCONTRACT[ ]§/, /[.][.][/]shared[/]/];

const root = new URL('../../', import.meta.url);
const files = execFileSync('git', ['ls-files', '*.ts', '*.mts', '*.mjs', '*.js', '*.md', '*.yml', '*.json', '.ci/run'], {
  cwd: root,
  encoding: 'utf8',
})
  .split('\n')
  .filter((f) => f && f !== 'package-lock.json');

describe('the tree cites only what is in it', () => {
  it('has no tracker or work-log numbers and no contract outside docs/', () => {
    const hits: string[] = [];
    for (const f of files) {
      const lines = readFileSync(new URL(f, root), 'utf8').split('\n');
      lines.forEach((line, i) => {
        for (const re of CITATIONS) if (re.test(line)) hits.push(`${f}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(hits).toEqual([]);
  });
});

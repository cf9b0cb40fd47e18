// Packs every public package as `pnpm publish` would (publishConfig applied, `workspace:`
// ranges replaced) and checks the tarball: publint finds nothing (warnings count as
// errors), and the files a user needs are in it. Then installs the tarballs into an empty
// project with npm, as a user would from the registry, and runs the two programs
// (`job-server`, `au`) from there. Run after `pnpm build`:
// `node --import tsx tooling/check-packages.ts` (CI does).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

interface Manifest {
  name: string;
  private?: boolean;
  bin?: Record<string, string>;
  main?: string;
  dependencies?: Record<string, string>;
  exports?: unknown;
}

const root = join(import.meta.dirname, '..');
const directories = ['packages', 'apps'].flatMap((group) =>
  readdirSync(join(root, group)).map((name) => join(root, group, name)),
);
const destination = mkdtempSync(join(tmpdir(), 'au-pack-'));
const problems: string[] = [];
let checked = 0;

try {
  for (const directory of directories) {
    const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as Manifest;
    if (manifest.private) continue;
    const tarball = execFileSync('npx', ['--yes', 'pnpm@10', 'pack', '--pack-destination', destination], {
      cwd: directory,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    })
      .trim()
      .split('\n')
      .at(-1)!;
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
    const packed = JSON.parse(
      execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
    ) as Manifest;
    const say = (message: string) => problems.push(`${manifest.name}: ${message}`);

    for (const needed of [
      'package/LICENSE',
      'package/README.md',
      `package/${(packed.main ?? '').replace(/^\.\//, '')}`,
    ])
      if (!files.includes(needed))
        say(`the tarball lacks ${needed.slice('package/'.length) || 'its main file'}`);
    for (const bin of Object.values(packed.bin ?? {}))
      if (!files.includes(`package/${bin.replace(/^\.\//, '')}`)) say(`the tarball lacks its bin ${bin}`);
    for (const [dependency, range] of Object.entries(packed.dependencies ?? {}))
      if (range.startsWith('workspace:')) say(`dependency ${dependency} is still "${range}" once packed`);
    if (JSON.stringify(packed.exports ?? {}).includes('@au/source'))
      say('the packed exports still name the @au/source condition');

    const { messages, pkg } = await publint({
      pack: { tarball: readFileSync(tarball).buffer as ArrayBuffer },
      strict: true,
      level: 'warning',
    });
    for (const message of messages) say(`publint: ${formatMessage(message, pkg, { color: false })}`);
    checked += 1;
  }
  if (problems.length === 0) installAndRun(destination);
} finally {
  rmSync(destination, { recursive: true, force: true });
}

/** npm-installs every tarball into a new project and runs each bin's help. */
function installAndRun(tarballs: string): void {
  const project = join(tarballs, 'project');
  execFileSync('npm', ['init', '-y'], { cwd: mkdirAndReturn(project), stdio: 'ignore' });
  const files = readdirSync(tarballs)
    .filter((file) => file.endsWith('.tgz'))
    .map((file) => join(tarballs, file));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files], {
    cwd: project,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (const [bin, argument, expected] of [
    ['job-server', 'help', /usage: job-server/],
    ['au', '--help', /Usage: au/],
  ] as const) {
    const output = execFileSync(join(project, 'node_modules', '.bin', bin), [argument], { encoding: 'utf8' });
    if (!expected.test(output))
      problems.push(`\`${bin} ${argument}\` from the installed tarballs printed: ${output.slice(0, 200)}`);
  }
}

function mkdirAndReturn(directory: string): string {
  mkdirSync(directory, { recursive: true });
  return directory;
}

if (problems.length > 0) {
  console.error(problems.join('\n'));
  console.error(`\n${problems.length} problem(s) in the packed packages`);
  process.exit(1);
}
console.log(
  `${checked} packages packed and checked: publint clean, LICENSE, README and entry files present; installed from the tarballs, \`job-server help\` and \`au --help\` run`,
);

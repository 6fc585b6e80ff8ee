/**
 * What the integration tests need before any container: a docker daemon (started with
 * deploy/docker/dockerd.sh in a network namespace of its own when none answers) and the node
 * image (deploy/images/build.sh, cached by a content hash). Without a way to run docker at
 * all the suites skip, naming why; anything else that fails is a failure.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PalisadeError } from '@palisade/service-kit';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

/** An integration-test failure of the environment (docker, image, containers). */
export class IntegrationError extends PalisadeError<'docker' | 'image' | 'timeout' | 'command-failed'> {}

const onPath = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;

/** Why docker cannot run here at all, or undefined when it can (then the suites must run). */
export function dockerSkipReason(): string | undefined {
  if (!onPath('docker')) return 'docker is not installed (Debian package docker.io; scripts/setup.sh installs it as root)';
  const answering = spawnSync(DOCKERD_SH, ['host'], { stdio: 'ignore' }).status === 0;
  if (answering) return undefined;
  if (!onPath('dockerd')) return 'no docker daemon answers and dockerd is not installed (Debian package docker.io)';
  if (process.getuid?.() !== 0) return 'no docker daemon answers and starting one needs root';
  return undefined;
}

const DOCKERD_SH = join(REPO_ROOT, 'deploy/docker/dockerd.sh');

/**
 * Makes sure a daemon answers and points DOCKER_HOST (and testcontainers) at it. Returns
 * whether it started one (then `stopDockerIfStarted` stops it again at the end).
 */
export function ensureDocker(): boolean {
  const wasRunning = spawnSync(DOCKERD_SH, ['host'], { stdio: 'ignore' }).status === 0;
  const out = execFileSync(DOCKERD_SH, ['start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 90_000 });
  const host = /^DOCKER_HOST=(.*)$/m.exec(out)?.[1] ?? '';
  if (host) process.env.DOCKER_HOST = host;
  else delete process.env.DOCKER_HOST;
  // No registry here: Ryuk (a pulled helper image) cannot run; every test removes what it made.
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  return !wasRunning;
}

/** Stops the daemon `ensureDocker` started (by its PID; the image cache stays on disk). */
export function stopDockerIfStarted(started: boolean): void {
  if (started) execFileSync(DOCKERD_SH, ['stop'], { stdio: 'inherit', timeout: 60_000 });
}

/** Builds (or finds in the cache) the node image and returns its tag. */
export function buildNodeImage(): string {
  for (const dist of ['services/configd/dist/main.js', 'services/node-agent/dist/main.js', 'packages/cli/dist/index.js']) {
    if (!existsSync(join(REPO_ROOT, dist))) throw new IntegrationError('image', `${dist} is missing: run npm run build first`);
  }
  const t0 = performance.now();
  const tag = execFileSync(join(REPO_ROOT, 'deploy/images/build.sh'), [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 }).trim();
  console.log(`node image ${tag} ready after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return tag;
}

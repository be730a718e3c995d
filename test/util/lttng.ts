/**
 * Test harness for real LTTng: a private lttng-sessiond per test, isolated in its own mount
 * namespace.
 *
 * A root lttng-sessiond always uses the global run directory /var/run/lttng, so two tests (or
 * two developers' tests on one machine) running sessiond at once would fight over it. Each
 * sandbox therefore starts a holder process in a new mount namespace with a private tmpfs on
 * /var/run/lttng, and runs sessiond, the `lttng` client and the traced applications inside it
 * through `nsenter`. Traced apps see only the sandbox's sessiond.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Extra argv before the command, e.g. ['unshare', '--pid', '--fork'] */
  wrap?: string[];
}

export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      {
        env: opts.env ?? process.env,
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 256 * 1024 * 1024,
        encoding: 'latin1',
      },
      (err, stdout, stderr) => {
        const code =
          err === null
            ? 0
            : typeof (err as { code?: unknown }).code === 'number'
              ? (err as { code: number }).code
              : 1;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

export class LttngSandbox {
  readonly dir: string;
  readonly home: string;
  private holder: ChildProcess | undefined;
  private holderPid = 0;

  private constructor(dir: string) {
    this.dir = dir;
    this.home = join(dir, 'home');
    mkdirSync(this.home, { recursive: true });
  }

  /** Starts a sandbox with its own lttng-sessiond (UST only). */
  static async create(prefix = 'nstrace-lttng-'): Promise<LttngSandbox> {
    const sb = new LttngSandbox(mkdtempSync(join(tmpdir(), prefix)));
    await sb.startHolder();
    const r = await sb.exec(['lttng-sessiond', '--daemonize', '--no-kernel', '--quiet']);
    if (r.code !== 0) {
      await sb.destroy();
      throw new Error(`lttng-sessiond failed to start: ${r.stderr}`);
    }
    return sb;
  }

  private startHolder(): Promise<void> {
    mkdirSync('/var/run/lttng', { recursive: true });
    const script =
      'mount -t tmpfs -o mode=0755 tmpfs /var/run/lttng || exit 1; echo ready; exec sleep 100000';
    const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.holder = child;
    this.holderPid = child.pid ?? 0;
    return new Promise((resolve, reject) => {
      let out = '';
      let err = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready')) resolve();
      });
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      child.on('exit', (code) => reject(new Error(`mount namespace holder exited (${code}): ${err}`)));
    });
  }

  /**
   * Environment for commands in the sandbox. Instrumented apps wait for the session daemon's
   * "registration done" however long it takes (the default 3 s can run out on a loaded machine,
   * and the app then runs untraced by some sessions).
   */
  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ...process.env,
      LTTNG_HOME: this.home,
      HOME: this.home,
      LTTNG_UST_REGISTER_TIMEOUT: '-1',
      ...extra,
    };
  }

  /** Runs a command inside the sandbox's mount namespace. */
  exec(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    const wrap = opts.wrap ?? [];
    return run('nsenter', ['-t', String(this.holderPid), '-m', '--', ...wrap, ...argv], {
      env: this.env(opts.env),
      timeoutMs: opts.timeoutMs,
    });
  }

  /** Runs `lttng ARGS`; throws with its output when it fails. */
  async lttng(...args: string[]): Promise<string> {
    const r = await this.exec(['lttng', ...args]);
    if (r.code !== 0) throw new Error(`lttng ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  async destroy(): Promise<void> {
    // Read the pid file inside the namespace: /var/run is a symlink to /run, which through
    // /proc/PID/root would resolve against our own root, not the sandbox's tmpfs.
    let sessiond = 0;
    const pid = await this.exec(['cat', '/var/run/lttng/lttng-sessiond.pid']);
    if (pid.code === 0) sessiond = Number(pid.stdout.trim()) || 0;
    if (sessiond > 0) {
      try {
        process.kill(sessiond, 'SIGTERM');
      } catch {
        /* gone */
      }
      for (let i = 0; i < 100 && existsSync(`/proc/${sessiond}`); i++)
        await new Promise((r) => setTimeout(r, 50));
      try {
        process.kill(sessiond, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    this.holder?.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Builds a C program instrumented with an lttng-ust tracepoint provider. `provider` is the
 * content of the tracepoint provider header (TRACEPOINT_EVENT definitions, without the
 * boilerplate), `main` the program. Returns the executable's path.
 */
export async function buildUstApp(
  dir: string,
  name: string,
  providerName: string,
  provider: string,
  main: string,
): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const hdr = `${name}-tp.h`;
  writeFileSync(
    join(dir, hdr),
    `#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER ${providerName}
#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./${hdr}"
#if !defined(_${name.toUpperCase()}_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define _${name.toUpperCase()}_TP_H
#include <lttng/tracepoint.h>
${provider}
#endif
#include <lttng/tracepoint-event.h>
`,
  );
  writeFileSync(
    join(dir, `${name}-tp.c`),
    `#define LTTNG_UST_TRACEPOINT_CREATE_PROBES\n#define LTTNG_UST_TRACEPOINT_DEFINE\n#include "${hdr}"\n`,
  );
  writeFileSync(join(dir, `${name}.c`), `#include "${hdr}"\n${main}`);
  const exe = join(dir, name);
  const r = await run(
    'gcc',
    ['-O2', '-I', dir, '-o', exe, join(dir, `${name}.c`), join(dir, `${name}-tp.c`), '-llttng-ust', '-ldl'],
    {
      timeoutMs: 120_000,
    },
  );
  if (r.code !== 0) throw new Error(`gcc failed: ${r.stderr}`);
  return exe;
}

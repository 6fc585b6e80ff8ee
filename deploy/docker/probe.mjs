// Real-packet probes from inside a node container (run by node-ctl.sh in a namespace).
//   probe.mjs HOST PORT             prints open | closed (reset, ICMP unreachable) | silent
//   probe.mjs --loop HOST ALLOWED BLOCKED SECONDS
//     probes both TCP ports every 10 ms until SIGTERM or SECONDS pass, then prints
//     {"allowed":N,"allowedFailed":N,"blocked":N,"blockedAnswered":N} (the blocked port should never answer)
import { connect } from 'node:net';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';

/**
 * One TCP connection attempt.
 * @param {string} host
 * @param {number} port
 * @param {number} timeoutMs
 * @returns {Promise<'open' | 'closed' | 'silent'>}
 */
function tcpProbe(host, port, timeoutMs) {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const t = setTimeout(() => {
      s.destroy();
      resolve('silent');
    }, timeoutMs);
    s.on('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve('open');
    });
    s.on('error', () => {
      clearTimeout(t);
      s.destroy();
      resolve('closed');
    });
  });
}

/** @type {(ms: number) => Promise<void>} */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const args = process.argv.slice(2);
if (args[0] === '--loop') {
  const [host = '', allowed = '0', blocked = '0', seconds = '10'] = args.slice(1);
  const counts = { allowed: 0, allowedFailed: 0, blocked: 0, blockedAnswered: 0 };
  let stop = false;
  process.on('SIGTERM', () => {
    stop = true;
  });
  setTimeout(() => {
    stop = true;
  }, Number(seconds) * 1000);
  /** @type {(port: string, wantOpen: boolean) => Promise<void>} */
  const loop = async (port, wantOpen) => {
    while (!stop) {
      const open = (await tcpProbe(host, Number(port), 200)) === 'open';
      if (wantOpen && open) counts.allowed++;
      else if (wantOpen) counts.allowedFailed++;
      else if (open) counts.blockedAnswered++;
      else counts.blocked++;
      await sleep(10);
    }
  };
  await Promise.all([loop(allowed, true), loop(blocked, false)]);
  process.stdout.write(`${JSON.stringify(counts)}\n`);
} else {
  const [host = '', port = '0'] = args;
  process.stdout.write(`${await tcpProbe(host, Number(port), 1000)}\n`);
}

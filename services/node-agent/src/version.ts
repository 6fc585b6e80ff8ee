/** node-agent version reported in logs and `--version`. */
export const AGENT_VERSION = '0.1.0';

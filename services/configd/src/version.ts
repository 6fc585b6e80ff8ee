/** configd version reported by Status and in logs. */
export const CONFIGD_VERSION = '0.1.0';

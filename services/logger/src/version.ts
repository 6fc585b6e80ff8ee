/** palisade-logger's version, in logs and metrics. */
export const LOGGER_VERSION = '0.1.0';

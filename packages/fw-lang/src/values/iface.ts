/**
 * Interface names in rules (`-i`, spec §3.1).
 */

const PVE_IFACE = /^[a-z][a-z0-9_]{1,20}(?:[:.][0-9]+)?$/i;
const GUEST_NIC = /^net[0-9]+$/;

/**
 * True for a valid PVE interface name (`pve-iface`): a letter, then 1–20 letters, digits or
 * `_` (no `-`), optionally followed by `.<n>` or `:<n>`; case-insensitive. Used for `-i` in
 * cluster and host rules.
 */
export function isValidIfaceName(name: string): boolean {
  return PVE_IFACE.test(name);
}

/**
 * True for a guest NIC key `net<digits>` (`-i` in guest rules must match `net\d+`; the
 * reference's message is `value does not match the regex pattern 'net\d+'`).
 */
export function isGuestNicName(name: string): boolean {
  return GUEST_NIC.test(name);
}

/** The NIC index of a `net<N>` key, or undefined when `name` is not one. */
export function guestNicIndex(name: string): number | undefined {
  return GUEST_NIC.test(name) ? Number(name.slice(3)) : undefined;
}

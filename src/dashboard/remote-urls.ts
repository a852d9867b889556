/**
 * Where a phone can open the dashboard: with `--host 0.0.0.0` (or `::`) the
 * address it listens on is no address a browser can use, so aipm prints one
 * URL per non-loopback address of this machine (a private network's, a VPN's),
 * each with a one-time login link. With a specific address, that one.
 */
import { networkInterfaces, type NetworkInterfaceInfo } from "node:os";
import { isLoopback } from "./server.js";

function bracket(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}

/** The base URLs (`http://192.168.1.20:8088/`) a listener on `host` is reachable at from another device. */
export function remoteBaseUrls(host: string, port: number, interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces()): string[] {
  if (isLoopback(host)) return [];
  const any = host === "0.0.0.0" || host === "::" || host === "";
  if (!any) return [`http://${bracket(host)}:${port}/`];
  const out: string[] = [];
  for (const list of Object.values(interfaces)) {
    for (const i of list ?? []) {
      if (i.internal) continue;
      // IPv6 link-local addresses need a zone a phone's browser cannot type.
      if (i.family === "IPv6" && /^fe80:/i.test(i.address)) continue;
      if (host === "0.0.0.0" && i.family !== "IPv4") continue;
      out.push(`http://${bracket(i.address)}:${port}/`);
    }
  }
  return out;
}

/**
 * The token arrives in the address's fragment (`/console/#token=…`): browsers never send a
 * fragment to a server, so it stays out of access logs and Referer headers. It is read once,
 * removed from the address bar and history, and kept only in this page's memory: never in
 * localStorage, sessionStorage or a cookie, so closing the tab forgets it.
 */
export function takeTokenFromAddress(): string | undefined {
  const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  const token = fragment.get('token')?.trim();
  if (window.location.hash) {
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  return token || undefined;
}

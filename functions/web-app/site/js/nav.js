// Going from page to page, apart from the shell (app.js) so that pages need
// not import it: the shell registers how to draw the current route.

let draw = () => {};
let pending = null;

/** The shell's drawing of the current route. */
export function onNavigate(fn) { draw = fn; }

/**
 * Goes to `path` (a hash route), drawing it even when it is the current
 * one; `message` is shown once that page is drawn (what the last action did).
 */
export function go(path, message) {
  pending = message ?? null;
  if (location.hash === `#${path}`) draw();
  else location.hash = `#${path}`;
}

/** The message `go` was given for the page being drawn, once. */
export function takeMessage() {
  const message = pending;
  pending = null;
  return message;
}

// The login page: exchanges the token typed once for an HttpOnly session cookie, then returns to the page asked for.

const form = document.getElementById('login');
const line = document.getElementById('status');

/** Only a path on this site, never another origin (`//host` or `/\host`). */
function nextPage() {
  const next = new window.URLSearchParams(window.location.search).get('next');
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = form.elements.namedItem('token');
  line.dataset.kind = 'info';
  line.textContent = 'Signing in…';
  const response = await fetch('/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ token: input.value }),
  });
  input.value = '';
  // Read the answer through before leaving, or the browser counts the request as aborted.
  await response.text();
  if (response.ok) {
    window.location.assign(nextPage());
    return;
  }
  line.dataset.kind = 'error';
  line.textContent =
    response.status === 401 || response.status === 403
      ? 'That token was not accepted.'
      : `Sign-in failed (${response.status}).`;
  input.focus();
});

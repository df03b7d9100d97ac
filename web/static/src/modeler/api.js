// Calls the REST API with the page's session: CSRF header from the meta tag, JSON answers.
function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : '';
}

/** Returns { ok, status, body } and never throws: a network failure is status 0 with a message. */
export async function api(method, url, body, contentType) {
  const headers = { 'X-CSRFToken': csrfToken(), Accept: 'application/json' };
  if (body !== undefined && contentType) {
    headers['Content-Type'] = contentType;
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body, credentials: 'same-origin' });
  } catch (error) {
    return { ok: false, status: 0, body: { error: 'network', message: String(error && error.message || error) } };
  }
  let parsed = null;
  const text = await response.text();
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch (error) {
    parsed = { error: 'unreadable', message: text.slice(0, 300) };
  }
  return { ok: response.ok, status: response.status, body: parsed };
}

export const postXml = (url, xml) => api('POST', url, xml, 'application/xml');
export const postJson = (url, data) => api('POST', url, JSON.stringify(data), 'application/json');

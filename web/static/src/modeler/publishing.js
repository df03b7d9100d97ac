// Publishing asks first: the next version's number, the dossiers in progress on earlier versions (they keep
// theirs), and a release note kept with the version. A draft with problems goes straight to the server, whose
// refusal lists them.
import { api, postJson } from './api.js';

export function createPublishing(page, save) {
  const { root, L, problems } = page;
  const dialog = document.getElementById('publish-dialog');
  const note = document.getElementById('release-note');

  // After a publication, a link per earlier version with dossiers in progress: where to move them to the new
  // version (the migration plan of that version).
  function offerMigrations(impact) {
    const box = document.getElementById('designer-status');
    for (const { version, dossiers } of (impact && impact.running) || []) {
      if (!dossiers) continue;
      const link = document.createElement('a');
      link.className = 'migrate-link';
      link.href = `/designer/sequences/${encodeURIComponent(page.key)}/versions/${version}/migrate`;
      link.textContent = L.migrateFrom.replace('{n}', dossiers).replace('{version}', version);
      box.append(' ', link);
    }
  }

  async function publishNow(body, impact = null) {
    root.dataset.mode = 'edit';
    const url = `/api/v1/sequences/${encodeURIComponent(page.key)}/publish`;
    const answer = body ? await postJson(url, body) : await api('POST', url);
    if (answer.ok) {
      page.say(L.published.replace('{version}', answer.body.version), 'ok');
      problems.show([]);
      page.draftState.published(answer.body.version);
      offerMigrations(impact);
      return true;
    }
    const issues = (answer.body && answer.body.issues) || [];
    problems.show(issues);
    page.say(L.publishRefused.replace('{n}', issues.length)
      .replace('{message}', (answer.body && answer.body.message) || `HTTP ${answer.status}`), 'error');
    return false;
  }

  function impactText(impact) {
    if (!impact.dossiers) return L.impactNone;
    const parts = impact.running.map(r => L.impactVersion.replace('{version}', r.version).replace('{n}', r.dossiers));
    return L.impactSome.replace('{n}', impact.dossiers).replace('{versions}', parts.join(', '))
      .replace('{next}', impact.next_version);
  }

  // Opens the confirmation; resolves with the note when confirmed, null when cancelled.
  function confirm(impact) {
    dialog.querySelector('#publish-title').textContent = L.publishTitle.replace('{version}', impact.next_version);
    dialog.querySelector('#publish-impact').textContent = impactText(impact);
    dialog.querySelector('#publish-impact').className = impact.dossiers ? 'impact some' : 'impact none';
    note.value = '';
    return new Promise(resolve => {
      const done = value => {
        dialog.removeEventListener('close', onClose);
        resolve(value);
      };
      const onClose = () => done(dialog.returnValue === 'publish' ? note.value : null);
      dialog.addEventListener('close', onClose);
      dialog.showModal();
      note.focus();
    });
  }

  async function publish() {
    if (page.dirty() || root.dataset.mode === 'new' || !page.key) {
      if (!(await save())) return;
    }
    if (problems.issues.length) {
      await publishNow(null); // refused with the list, as it stands
      return;
    }
    const answer = await api('GET', `/api/v1/sequences/${encodeURIComponent(page.key)}/impact`);
    if (!answer.ok) {
      page.say(L.publishRefused.replace('{n}', 0)
        .replace('{message}', (answer.body && answer.body.message) || `HTTP ${answer.status}`), 'error');
      return;
    }
    const chosen = await confirm(answer.body);
    if (chosen === null) {
      page.say(L.publishCancelled, 'info');
      return;
    }
    await publishNow({ note: chosen.trim() || null }, answer.body);
  }

  return { publish };
}

// The draft's state at the top of the editor ("Brouillon modifié le …, version publiée 2"), Ctrl+S, and the
// autosave: a few seconds after the last change the draft saves itself (kept in the draft history, which an
// autosave does not flood: designer/drafts.py).

export function createDraftState(page) {
  const { root, L } = page;
  const box = document.getElementById('draft-state');
  const lang = document.documentElement.lang === 'en' ? 'en' : 'fr';
  const state = {
    updatedAt: root.dataset.draftUpdatedAt || null,
    version: root.dataset.publishedVersion ? Number(root.dataset.publishedVersion) : null,
    same: root.dataset.draftSame === '1'
  };

  function when(iso) {
    const date = new Date(iso);
    const options = { timeZone: 'Europe/Paris' };
    const day = date.toLocaleDateString(lang === 'en' ? 'en-GB' : 'fr-FR', { ...options, day: 'numeric', month: 'long', year: 'numeric' });
    const time = date.toLocaleTimeString(lang === 'en' ? 'en-GB' : 'fr-FR', { ...options, hour: '2-digit', minute: '2-digit' });
    return L.draftWhen.replace('{day}', day).replace('{time}', time);
  }

  function render() {
    const parts = [];
    if (!state.updatedAt) parts.push(L.draftNew);
    else if (state.same && state.version && !page.dirty()) parts.push(L.draftSame.replace('{n}', state.version));
    else parts.push(L.draftChanged.replace('{when}', when(state.updatedAt)));
    if (!(state.same && state.version && !page.dirty())) {
      parts.push(state.version ? L.publishedVersion.replace('{n}', state.version) : L.neverPublished);
    }
    if (page.dirty()) parts.push(L.unsavedChanges);
    box.textContent = parts.join(' · ');
    box.className = `draft-state${page.dirty() ? ' dirty' : ''}`;
  }

  return {
    render,
    saved(at) {
      state.updatedAt = at || new Date().toISOString();
      state.same = false;
      render();
    },
    published(version) {
      state.version = version;
      state.same = true;
      render();
    }
  };
}

export function wireDrafting(page, save) {
  const { root, L } = page;
  document.addEventListener('keydown', event => {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === 's') {
      event.preventDefault(); // not the browser's "save the page"
      save();
    }
  }, true);

  const delay = Number(root.dataset.autosaveMs || 30000);
  let timer = null;
  let saving = false;
  async function autosave() {
    timer = null;
    // Only a sequence that exists is saved by itself: a new diagram waits for its first deliberate save.
    if (!page.dirty() || root.dataset.mode !== 'edit' || !page.key) return;
    if (saving) {
      timer = setTimeout(autosave, delay);
      return;
    }
    saving = true;
    try {
      await save({ autosave: true });
    } finally {
      saving = false;
    }
  }
  page.modeler.on('commandStack.changed', () => {
    page.draftState.render();
    clearTimeout(timer);
    timer = setTimeout(autosave, delay);
  });
  // For tests and scripts: no autosave waiting.
  return { autosavePending: () => timer !== null || saving, L };
}

// The dossier page's business event form: only the chosen event's fields show, and only they are sent.
// Plain and unbundled, so that it works even before the front end is built.
for (const form of document.querySelectorAll('form.event-form')) {
  const select = form.querySelector('select[name=name]');
  const show = () => {
    for (const fieldset of form.querySelectorAll('fieldset.event-fields')) {
      const chosen = fieldset.dataset.event === select.value;
      fieldset.hidden = !chosen;
      fieldset.disabled = !chosen;
    }
  };
  select.addEventListener('change', show);
  show();
}

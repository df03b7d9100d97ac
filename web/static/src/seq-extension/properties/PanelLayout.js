// How the properties panel is laid out for an analyst, apart from what each group holds: the groups people
// need open from the start, and the stock groups our "Séquence" group replaces (one editor per value).
// Runs after every other provider (lowest priority), so it sees their groups.

// Stock groups that edit what "Séquence" already edits, in the user's language: the timer's Type/Value.
const REPLACED = { timer: 'seq-timer-value' };
const OPEN = new Set([ 'general', 'sequence' ]);

export default function SeqPanelLayout(propertiesPanel) {
  this.getGroups = function() {
    return function(groups) {
      const ours = groups.find(group => group.id === 'sequence');
      const entryIds = new Set(((ours && ours.entries) || []).map(entry => entry.id));
      return groups
        .filter(group => !(REPLACED[group.id] && entryIds.has(REPLACED[group.id])))
        .map(group => (OPEN.has(group.id) ? { ...group, shouldOpen: true } : group));
    };
  };
  propertiesPanel.registerProvider(100, this);
}

SeqPanelLayout.$inject = [ 'propertiesPanel' ];

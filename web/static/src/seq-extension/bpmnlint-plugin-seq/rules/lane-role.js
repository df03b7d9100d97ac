const ROLE = /^[a-z][a-z0-9_]*$/;

/** Every lane is a role: seq:role is required. */
module.exports = function() {
  function check(node, reporter) {
    if (!node.$instanceOf || !node.$instanceOf('bpmn:Lane')) {
      return;
    }
    const role = node.get('seq:role');
    if (!role) {
      reporter.report(node.id, 'Ce couloir n\'a pas de rôle : renseignez « Rôle » dans le groupe Séquence.');
    } else if (!ROLE.test(role)) {
      reporter.report(node.id, 'Rôle « ' + role + ' » : minuscules, chiffres et « _ » seulement.');
    }
  }
  return { check };
};

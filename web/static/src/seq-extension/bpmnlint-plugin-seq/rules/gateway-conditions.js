/** A branch leaving an exclusive or inclusive gateway needs a condition unless it is the default one. */
module.exports = function() {
  function check(node, reporter) {
    if (!node.$instanceOf || !(node.$instanceOf('bpmn:ExclusiveGateway') || node.$instanceOf('bpmn:InclusiveGateway'))) {
      return;
    }
    const outgoing = node.outgoing || [];
    if (outgoing.length < 2) {
      return;
    }
    for (const flow of outgoing) {
      if (!flow.conditionExpression && node.default !== flow) {
        reporter.report(flow.id, 'Branche sans condition : choisissez une condition ou cochez « Branche par défaut ».');
      }
    }
  }
  return { check };
};

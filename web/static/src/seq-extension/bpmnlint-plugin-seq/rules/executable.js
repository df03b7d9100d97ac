/** A sequence is an executable process. */
module.exports = function() {
  function check(node, reporter) {
    if (node.$instanceOf && node.$instanceOf('bpmn:Process') && node.flowElements && node.flowElements.length &&
        !node.isExecutable) {
      reporter.report(node.id, 'Le processus n\'est pas exécutable : cochez « Executable » dans le panneau.');
    }
  }
  return { check };
};

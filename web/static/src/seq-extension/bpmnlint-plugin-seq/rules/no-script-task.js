/** Scripts never run: the runtime refuses script tasks. */
module.exports = function() {
  function check(node, reporter) {
    if (node.$instanceOf && node.$instanceOf('bpmn:ScriptTask')) {
      reporter.report(node.id, 'Les tâches de script sont refusées : utilisez une action ou une communication.');
    }
  }
  return { check };
};

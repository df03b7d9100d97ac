// Client-side mirror of a few server checks (bpmn/validation.py stays the authority): instant feedback.
module.exports = {
  configs: {
    recommended: {
      rules: {
        'lane-role': 'error',
        'no-script-task': 'error',
        executable: 'error',
        'gateway-conditions': 'warn'
      }
    }
  },
  rules: {
    'lane-role': './rules/lane-role',
    'no-script-task': './rules/no-script-task',
    executable: './rules/executable',
    'gateway-conditions': './rules/gateway-conditions'
  }
};

// The Séquences extension of bpmn-js: the seq: moddle descriptor, the "Séquence" properties group and a
// palette limited to what the runtime supports.
import SeqPropertiesProvider from './properties/SeqPropertiesProvider.js';
import SeqPanelLayout from './properties/PanelLayout.js';
import SeqPaletteProvider from './palette.js';
import SeqDictionaryProvider from './dictionary/provider.js';
import seqDescriptor from './seq.json';

export { seqDescriptor };

export const SeqPropertiesModule = {
  __init__: [ 'seqPropertiesProvider', 'seqPanelLayout' ],
  seqPropertiesProvider: [ 'type', SeqPropertiesProvider ],
  seqPanelLayout: [ 'type', SeqPanelLayout ]
};

export const SeqPaletteModule = {
  __init__: [ 'seqPaletteProvider' ],
  seqPaletteProvider: [ 'type', SeqPaletteProvider ]
};

// The dictionary's words in the panel (dictionary/): roles, outcome labels, forms, the condition builder.
export const SeqDictionaryModule = {
  __init__: [ 'seqDictionaryProvider' ],
  seqDictionaryProvider: [ 'type', SeqDictionaryProvider ]
};

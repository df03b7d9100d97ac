// Name editing right after an append from the context pad: bpmn-js starts it on tasks and events, and here
// on gateways too, whose name is the question the branches answer ("Payé ?").
import { is } from 'bpmn-js/lib/util/ModelUtil';

function GatewayNaming(eventBus, directEditing) {
  eventBus.on('autoPlace.end', 400, event => {
    if (is(event.shape, 'bpmn:Gateway')) {
      directEditing.activate(event.shape);
    }
  });
}

GatewayNaming.$inject = [ 'eventBus', 'directEditing' ];

export const GatewayNamingModule = {
  __init__: [ 'gatewayNaming' ],
  gatewayNaming: [ 'type', GatewayNaming ]
};

// GET /v1/service/stats?window=1h&by=topic|channel|agent (docs/protocol.md, "Ratings and service
// figures"): requests, response and handle times, containment, first-contact resolution,
// abandonment and CSAT over the window ending now. Supervisors and admins (figures-route.ts).

import { serviceStatsRequest } from '../../engine/mod.ts';
import { figuresRoute } from './figures-route.ts';

export const getServiceStats = figuresRoute({ processor: 'service', what: 'the service figures', parse: serviceStatsRequest });

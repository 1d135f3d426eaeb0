// GET /v1/commerce/stats?window=1h&by=channel|location (docs/protocol.md, "Commerce figures"): the
// figures of the orders placed in the window ending now. Supervisors and admins (figures-route.ts).

import { statsRequest } from '../../engine/mod.ts';
import { figuresRoute } from './figures-route.ts';

export const getCommerceStats = figuresRoute({ processor: 'commerce', what: 'the commerce figures', parse: statsRequest });

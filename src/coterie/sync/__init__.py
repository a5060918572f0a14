"""CRM sync: connections of a company to its CRM, the links, shadows and cursors that hold the
truth of the sync, the engine that moves changes both ways through the gate, and spreadsheet
import (which shares the sync's match-or-create).

Connectors live in `coterie.sync.connectors`, one module per CRM, found by Python entry points
(group `coterie.connectors`) so a third party can add one without touching Coterie.
"""

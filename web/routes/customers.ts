import { Router } from 'express';
import type { AuditLog } from '../../monitor/registry/audit.ts';
import type { Registry } from '../../monitor/registry/registry.ts';
import { WebhookDestinations } from '../../monitor/alerts/channels/webhook-destination.ts';
import type { ChannelConfig } from '../../monitor/types.ts';
import { check } from '../auth.ts';
import { CUSTOMER_OWNED_FIELDS, forbiddenCustomerFields } from '../customer-owned.ts';
import { HttpError } from '../http-error.ts';
import { customerCreateSchema, customerPatchSchema, parseOr } from '../schemas.ts';

/** A customer as the API shows it: webhook secrets are write-only. */
function customerView(c: ReturnType<Registry['getCustomer']> & object) {
  return {
    ...c,
    channels: c.channels.map((ch) =>
      ch.type === 'webhook' ? { type: ch.type, url: ch.url, secret: '***', ...(ch.escalation ? { escalation: true } : {}) } : ch,
    ),
    createdAt: new Date(c.createdAt).toISOString(),
  };
}

/**
 * 422 for a webhook a customer may not use (SSRF guard, ../../monitor/alerts/channels/webhook-destination.ts).
 * Delivery checks again after DNS resolution; this check makes the mistake visible when it is made.
 */
async function webhooksAllowed(destinations: WebhookDestinations, channels: ChannelConfig[] | undefined): Promise<void> {
  for (const [i, c] of (channels ?? []).entries()) {
    if (c.type !== 'webhook') continue;
    const why = await destinations.check(new URL(c.url));
    if (why) throw new HttpError(422, `customer field "channels.${i}.url": ${why}.`, 'webhook_destination');
  }
}

/**
 * @param onTimingChange called when a customer's default offlineAfter changed, to re-time its devices.
 * @param destinations which webhook addresses customers may configure (default: public ones only).
 */
export function customerRoutes(
  registry: Registry,
  audit: AuditLog,
  onTimingChange: (customerId: string) => void,
  destinations = new WebhookDestinations(),
) {
  const r = Router();

  r.post('/customers', async (req, res) => {
    check(req, 'customer:create');
    const body = parseOr(customerCreateSchema, req.body, 'customer');
    if (!body.ok) throw new HttpError(422, body.error, body.reason);
    await webhooksAllowed(destinations, body.value.channels as ChannelConfig[] | undefined);
    const c = await registry.commit(() => {
      const created = registry.createCustomer(body.value);
      audit.record(req.principal, 'customer.create', created.id, { name: created.name });
      return created;
    });
    res.status(201).json(customerView(c));
  });

  r.get('/customers/:id', (req, res) => {
    const c = registry.getCustomer(req.params.id);
    check(req, 'customer:read', c?.id ?? req.params.id, 'customer');
    if (!c) throw new HttpError(404, 'customer not found');
    res.json(customerView(c));
  });

  r.patch('/customers/:id', async (req, res) => {
    // Scope first, then ownership of the fields, then validation: a foreign or missing id gets
    // the same 404 whatever the body, so no answer tells whether another customer exists.
    check(req, 'customer:update', req.params.id, 'customer');
    const forbidden = forbiddenCustomerFields(req.principal!, req.body, Object.keys(customerPatchSchema.shape));
    if (forbidden.length) {
      throw new HttpError(
        403,
        `A customer key may change only ${CUSTOMER_OWNED_FIELDS.join(', ')} of its customer; ${forbidden.join(', ')} ${forbidden.length > 1 ? 'are' : 'is'} set by the operator.`,
        'operator_field',
      );
    }
    const body = parseOr(customerPatchSchema, req.body, 'customer');
    if (!body.ok) throw new HttpError(422, body.error, body.reason);
    await webhooksAllowed(destinations, body.value.channels as ChannelConfig[] | undefined);
    const c = await registry.commit(() => {
      const updated = registry.updateCustomer(req.params.id, body.value);
      audit.record(req.principal, 'customer.update', updated.id, { fields: Object.keys(body.value) });
      return updated;
    });
    if (body.value.offlineAfter !== undefined) onTimingChange(c.id);
    res.json(customerView(c));
  });

  // Refused with 409 while it still has devices (../../monitor/registry/registry.ts, deleteCustomer).
  r.delete('/customers/:id', async (req, res) => {
    check(req, 'customer:delete');
    const { revokedKeys } = await registry.commit(() => {
      const deleted = registry.deleteCustomer(req.params.id);
      audit.record(req.principal, 'customer.delete', req.params.id, { revokedKeys: deleted.revokedKeys });
      return deleted;
    });
    res.json({ id: req.params.id, deleted: true, revokedKeys });
  });

  return r;
}

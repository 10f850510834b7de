import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';

/**
 * The running server's OpenAPI document, and a check that a real response is what the document
 * says that operation answers with that status (its schema, by Ajv).
 */
export async function openApiOf(baseUrl: string) {
  const doc = await (await fetch(`${baseUrl}/api/openapi.json`)).json();
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  for (const [name, schema] of Object.entries(doc.components.schemas)) ajv.addSchema(schema as object, `#/components/schemas/${name}`);
  const conforms = (path: string, method: string, status: number, body: unknown): void => {
    const op = doc.paths[path]?.[method];
    expect(op, `${method.toUpperCase()} ${path} is described`).toBeTruthy();
    const response = op.responses[String(status)];
    expect(response, `${method.toUpperCase()} ${path} documents status ${status}`).toBeTruthy();
    const ref = response.content?.['application/json']?.schema?.$ref as string | undefined;
    if (!ref) return;
    const validate = ajv.getSchema(ref)!;
    const valid = validate(body);
    expect(
      valid,
      `${method.toUpperCase()} ${path} ${status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 400)}`,
    ).toBe(true);
  };
  return { doc, conforms };
}

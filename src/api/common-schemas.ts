/** Schemas shared by every wire surface: ids, the error body, and the request-id header. */
import { type Static, type TSchema, Type } from '@sinclair/typebox';

export const ProjectId = Type.String({
  pattern: '^[0-9a-f]{32}$',
  description: '32 lowercase hexadecimal characters',
});
export const Uuid = Type.String({
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  description: 'UUID',
});
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const INTEGER_LIKE = 'x-integer-like';

/**
 * A whole number that official clients send as a string ("64", "7"): an integer or a string of digits,
 * from `min` to `max` (and a multiple of `step`). Validation checks the range and hands the route a
 * number, so handlers never parse or range-check it (see `integerLikeKeyword`).
 */
export function IntegerLike(min: number, max: number, options: { step?: number; description?: string } = {}) {
  const step = options.step ?? 1;
  const range = step === 1 ? `from ${min} to ${max}` : `from ${min} to ${max}, a multiple of ${step}`;
  return Type.Unsafe<number>({
    [INTEGER_LIKE]: [min, max, step],
    description: options.description ?? `an integer ${range}, as a number or a string of digits`,
  });
}

interface KeywordContext {
  parentData: Record<string | number, unknown>;
  parentDataProperty: string | number;
}
type KeywordValidator = ((
  schema: [number, number, number],
  data: unknown,
  parentSchema: unknown,
  context?: KeywordContext,
) => boolean) & { errors?: { keyword: string; message: string; params: object }[] };

interface KeywordDefinition {
  keyword: string;
  modifying: boolean;
  errors: boolean;
  schemaType: 'array';
  validate: KeywordValidator;
}

/** The ajv plugin behind `IntegerLike`: checks the value and replaces a digit string by its number. */
export function integerLikeKeyword<Ajv extends { addKeyword(definition: KeywordDefinition): Ajv }>(
  ajv: Ajv,
): Ajv {
  const validate: KeywordValidator = (schema, data, _parentSchema, context) => {
    const [min, max, step] = schema;
    const n =
      typeof data === 'number'
        ? data
        : typeof data === 'string' && /^[0-9]{1,16}$/.test(data)
          ? Number(data)
          : NaN;
    if (!Number.isInteger(n) || n < min || n > max || n % step !== 0) {
      const range = step === 1 ? `from ${min} to ${max}` : `from ${min} to ${max} in steps of ${step}`;
      validate.errors = [{ keyword: INTEGER_LIKE, message: `must be an integer ${range}`, params: {} }];
      return false;
    }
    if (context && typeof data === 'string') context.parentData[context.parentDataProperty] = n;
    return true;
  };
  return ajv.addKeyword({
    keyword: INTEGER_LIKE,
    modifying: true,
    errors: true,
    schemaType: 'array',
    validate,
  });
}

export const ErrorBody = Type.Object(
  {
    error_code: Type.String({ examples: ['DWS.0301'] }),
    error_msg: Type.String(),
    canonical_request: Type.Optional(
      Type.String({ description: 'Signature mismatch only: the canonical request the server computed' }),
    ),
    string_to_sign: Type.Optional(
      Type.String({ description: 'Signature mismatch only: the string to sign the server computed' }),
    ),
  },
  { $id: 'ErrorBody', description: 'Every 4xx/5xx answer' },
);
export type ErrorBody = Static<typeof ErrorBody>;

export const ProjectParams = Type.Object({ project_id: ProjectId });

/** The error answers every authenticated route may give. */
export function errorResponses(...extra: number[]): Record<number, TSchema> {
  const codes = [400, 401, 403, 404, 500, 503, ...extra];
  return Object.fromEntries(codes.map((c) => [c, Type.Ref('ErrorBody')]));
}

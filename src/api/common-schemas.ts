/** Schemas shared by every wire surface: ids, the error body, and the request-id header. */
import { type TSchema, Type } from '@sinclair/typebox';

export const ProjectId = Type.String({
  pattern: '^[0-9a-f]{32}$',
  description: '32 lowercase hexadecimal characters',
});
export const Uuid = Type.String({
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  description: 'UUID',
});
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const ErrorBody = Type.Object(
  { error_code: Type.String({ examples: ['DWS.0301'] }), error_msg: Type.String() },
  { $id: 'ErrorBody', description: 'Every 4xx/5xx answer' },
);

export const ProjectParams = Type.Object({ project_id: ProjectId });

/** The error answers every authenticated route may give. */
export function errorResponses(...extra: number[]): Record<number, TSchema> {
  const codes = [400, 401, 403, 404, 500, 503, ...extra];
  return Object.fromEntries(codes.map((c) => [c, Type.Ref('ErrorBody')]));
}

// Resource tags as the AWS tagging APIs check them. The characters allowed in keys and values are
// the models' documented rule; the limit and the fault for too many tags belong to each service.
import { coralViolation } from "../faults.ts";

/** Letters, digits, whitespace and `_ . : / = + - @`, in keys and values. */
const allowed = /^[\p{L}\p{N}\p{Z}\s_.:/=+\-@]*$/u;

/**
 * Checks tags given at `path`: at most `max` (else the error `tooMany(count)` makes), and only the
 * allowed characters in keys and values. Returns them with absent values as "".
 */
export function checkTags(tags: { key?: string; value?: string }[], path: string, max: number, tooMany: (count: number) => Error): { key: string; value: string }[] {
  if (tags.length > max) throw tooMany(tags.length);
  return tags.map((t, i) => {
    for (const [name, v] of [["key", t.key ?? ""], ["value", t.value ?? ""]] as const)
      if (!allowed.test(v))
        throw coralViolation(v, `${path}.${i + 1}.member.${name}`, "Member must contain only unicode letters, digits, whitespace, or _ . : / = + - @");
    return { key: t.key ?? "", value: t.value ?? "" };
  });
}

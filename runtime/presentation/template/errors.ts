/**
 * A template that cannot be parsed or executed. Its message has Go's shape
 * (`template: :LINE:COL: …`, and `executing "" at <.Field>: …` when running),
 * so what a Docker user knows how to read reads the same; the CLI exits 2.
 */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

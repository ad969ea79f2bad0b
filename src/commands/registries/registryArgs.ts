/**
 * What the registry commands act on: a node of the Registries view, or from
 * the palette and tests a string ("127.0.0.1:5000" for a registry,
 * "127.0.0.1:5000/team/app:1" for a tag).
 */
import * as vscode from 'vscode';
import { invalidArgument } from '../../../runtime/client';
import { imageReference } from '../../../runtime/presentation';
import { isRegistryNode, isTagNode, tagReference } from '../../views/registries/registryNodes';

/** The registry a node or string names; undefined when none was given. */
export function registryFromArg(arg: unknown): string | undefined {
  if (isRegistryNode(arg)) return arg.login.server;
  if (typeof arg === 'string' && arg.trim()) return arg.trim();
  return undefined;
}

/** The full tag reference a node or string names; InvalidArgument for a string that names no tag. */
export function tagFromArg(arg: unknown): string {
  if (isTagNode(arg)) return tagReference(arg);
  if (typeof arg === 'string' && arg.trim()) {
    const ref = imageReference(arg.trim());
    if (ref.digest) throw invalidArgument(vscode.l10n.t('{0} is not a tag', arg));
    return ref.name;
  }
  throw invalidArgument(vscode.l10n.t('Choose a tag in the Registries view'));
}

/** The options object among trailing arguments, if any. */
export function registryOptions<T extends object>(args: readonly unknown[]): Partial<T> {
  const found = args.find((a) => typeof a === 'object' && a !== null && !Array.isArray(a) && !isRegistryNode(a) && !isTagNode(a));
  return (found as Partial<T> | undefined) ?? {};
}

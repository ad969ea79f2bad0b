import { commandGroup, type Command } from '../command';
import { imageInspectCommand, imagePruneCommand, imagesCommand, rmiCommand, tagCommand } from './images';
import { pullCommand } from './pull';
import { pushCommand } from './push';
import { loadCommand, saveCommand } from './archive';
import { importCommand } from './changes';
import { historyCommand } from './history';

/** `gantry image <subcommand>`: Docker's management-command spelling of the image verbs. */
const SUBCOMMANDS: Record<string, Command> = {
  ls: imagesCommand,
  list: imagesCommand,
  pull: pullCommand,
  push: pushCommand,
  save: saveCommand,
  load: loadCommand,
  import: importCommand,
  inspect: imageInspectCommand,
  tag: tagCommand,
  rm: rmiCommand,
  remove: rmiCommand,
  prune: imagePruneCommand,
  history: historyCommand,
};

export const imageCommand: Command = commandGroup(
  {
    name: 'image',
    summary: 'manage images (ls, pull, push, save, load, inspect, tag, rm, prune)',
    usage: `Usage: gantry image COMMAND

Commands:
  ls        list images
  pull      pull an image from a registry
  push      push an image to a registry
  save      write images to a tar archive
  load      load images from a tar archive
  import    make an image of a filesystem tar archive
  inspect   show the details of images
  tag       give an image another name
  rm        remove images
  prune     remove untagged images
  history   show the history of an image
`,
  },
  SUBCOMMANDS,
);

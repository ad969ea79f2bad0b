/**
 * The rootless walkthrough (package.json `contributes.walkthroughs`, pages in
 * media/walkthrough/): what rootless is, the prerequisites and their fixes,
 * Start Runtime, a first container. Its id as `workbench.action.openWalkthrough`
 * takes it: "<publisher>.<name>#<walkthrough id>".
 */
export const ROOTLESS_WALKTHROUGH = 'gantry.gantry#gantry.rootless';

/** The parts of npm spdy-transport (untyped) gantry uses: SPDY/3's header dictionary, and its connection for the tests' client. */
declare module 'spdy-transport/lib/spdy-transport/protocol/spdy/dictionary' {
  const dictionary: Readonly<Record<number, Buffer>>;
  export = dictionary;
}

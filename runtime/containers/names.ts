/**
 * Generated container names, "adjective_surname" as Docker makes them, so a
 * user can tell containers apart without naming each one.
 */
import { randomInt } from 'node:crypto';

// prettier-ignore
const ADJECTIVES = [
  'admiring', 'adoring', 'agitated', 'amazing', 'angry', 'awesome', 'blissful', 'bold', 'brave', 'busy',
  'charming', 'clever', 'compassionate', 'competent', 'confident', 'cool', 'dazzling', 'determined', 'eager', 'ecstatic',
  'elastic', 'elegant', 'epic', 'exciting', 'fervent', 'festive', 'focused', 'friendly', 'gallant', 'gifted',
  'goofy', 'gracious', 'happy', 'hopeful', 'hungry', 'inspiring', 'intelligent', 'jolly', 'jovial', 'keen',
  'kind', 'laughing', 'loving', 'lucid', 'magical', 'modest', 'nice', 'nifty', 'nostalgic', 'objective',
  'optimistic', 'peaceful', 'pensive', 'practical', 'priceless', 'quirky', 'quizzical', 'relaxed', 'reverent', 'romantic',
  'serene', 'sharp', 'silly', 'sleepy', 'stoic', 'strange', 'sweet', 'tender', 'thirsty', 'trusting',
  'upbeat', 'vibrant', 'vigilant', 'vigorous', 'wizardly', 'wonderful', 'youthful', 'zealous', 'zen',
];

// prettier-ignore
const SURNAMES = [
  'albattani', 'allen', 'archimedes', 'babbage', 'banach', 'bardeen', 'bartik', 'bell', 'bhabha', 'blackwell',
  'bohr', 'booth', 'borg', 'bose', 'brahmagupta', 'brattain', 'brown', 'carson', 'cerf', 'chandrasekhar',
  'clarke', 'curie', 'darwin', 'davinci', 'dijkstra', 'easley', 'einstein', 'elion', 'euclid', 'euler',
  'fermat', 'fermi', 'feynman', 'franklin', 'galileo', 'gauss', 'goldberg', 'goodall', 'hamilton', 'hawking',
  'heisenberg', 'hermann', 'hodgkin', 'hopper', 'hypatia', 'jackson', 'jennings', 'johnson', 'kalam', 'kepler',
  'khorana', 'knuth', 'kowalevski', 'lamarr', 'lamport', 'leakey', 'lovelace', 'lumiere', 'mayer', 'mccarthy',
  'mcclintock', 'meitner', 'mendel', 'morse', 'napier', 'newton', 'noether', 'noyce', 'pascal', 'pasteur',
  'perlman', 'pike', 'poincare', 'ramanujan', 'ride', 'ritchie', 'rosalind', 'shannon', 'shockley', 'sinoussi',
  'stallman', 'swanson', 'tesla', 'thompson', 'torvalds', 'turing', 'varahamihira', 'wiles', 'wilson', 'wozniak',
  'wright', 'yalow', 'yonath',
];

/** A name not in `taken`; after a few collisions a digit is appended, as Docker does. */
export function generateName(taken: (name: string) => boolean): string {
  for (let attempt = 0; ; attempt++) {
    let name = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${SURNAMES[randomInt(SURNAMES.length)]}`;
    if (attempt >= 3) name += String(randomInt(10));
    if (!taken(name)) return name;
  }
}

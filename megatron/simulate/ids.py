"""Deterministic addresses, signatures and token metadata derived from the seed.

- Pubkeys: base58 of a 32-byte BLAKE2b digest keyed by the seed (``base58`` package), so every
  (seed, label) names the same wallet, mint, curve or pool in every run.
- Mints: 44 base58 characters ending in ``pump`` like pump.fun's vanity mints, built digit by
  digit: a leading digit of value 1..16 keeps the number in [58^43, 17·58^43) ⊂ [2^248, 2^256),
  so it decodes to exactly 32 bytes and re-encodes to itself.
- Signatures: 88 base58 characters, leading digit of value 1..4, so the number lies in
  [58^87, 5·58^87) ⊂ [2^504, 2^512): exactly 64 bytes. Drawn from the token's own random
  stream; building the text directly is ~20× faster than encoding 64 random bytes.
"""

from __future__ import annotations

import hashlib
from random import Random

import base58

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
#: byte → base58 character (not uniform over the alphabet; validity is all that matters)
_BYTE_TO_B58 = bytes(ord(ALPHABET[(b * 58) >> 8]) for b in range(256))


def seed_key(seed: int) -> bytes:
    """The BLAKE2b key for a seed (64 bytes at most)."""
    return hashlib.sha512(f"megatron-simulate:{seed}".encode()).digest()


def pubkey(key: bytes, label: str) -> str:
    """A deterministic 32-byte base58 address for ``label`` under the seed ``key``."""
    return base58.b58encode(hashlib.blake2b(label.encode(), key=key, digest_size=32).digest()).decode("ascii")


def pump_mint(key: bytes, label: str) -> str:
    """A deterministic 32-byte base58 address ending in ``pump``."""
    digest = hashlib.blake2b(label.encode(), key=key, digest_size=40).digest()
    lead = ALPHABET[1 + digest[0] % 16]
    return lead + digest[1:40].translate(_BYTE_TO_B58).decode("ascii") + "pump"


def signature(rng: Random) -> str:
    """A 64-byte base58 transaction signature drawn from ``rng``."""
    return ALPHABET[1 + rng.getrandbits(2)] + rng.randbytes(87).translate(_BYTE_TO_B58).decode("ascii")


def ipfs_uri(rng: Random) -> str:
    """A metadata URI shaped like pump.fun's (an IPFS CIDv0: ``Qm`` + 44 base58 characters)."""
    return "https://ipfs.io/ipfs/Qm" + rng.randbytes(44).translate(_BYTE_TO_B58).decode("ascii")


_ADJECTIVES = (
    "Based", "Tiny", "Giga", "Sad", "Happy", "Angry", "Baby", "Dark", "Golden", "Turbo", "Sleepy", "Cosmic",
    "Wild", "Frozen", "Pixel", "Chad", "Smol", "Mega", "Lucky", "Crypto", "Rich", "Broke", "Super", "Retro",
    "Hyper", "Moon", "Degen", "Silly", "Laser", "Neon",
)
_NOUNS = (
    "Pepe", "Doge", "Cat", "Frog", "Wif", "Hat", "Bonk", "Shiba", "Penguin", "Monkey", "Hamster", "Goat",
    "Whale", "Bull", "Bear", "Rocket", "Pizza", "Wizard", "Ninja", "Robot", "Alien", "Duck", "Otter", "Banana",
    "Trump", "Elon", "Sloth", "Panda", "Tiger", "Dragon", "Capybara", "Popcat", "Moodeng", "Fwog", "Chillguy",
)


def token_name(rng: Random) -> tuple[str, str]:
    """A memecoin-shaped (name, symbol)."""
    adjective = _ADJECTIVES[rng.randrange(len(_ADJECTIVES))]
    noun = _NOUNS[rng.randrange(len(_NOUNS))]
    roll = rng.random()
    if roll < 0.45:
        return f"{adjective} {noun}", (adjective[:1] + noun).upper()[:8]
    if roll < 0.8:
        return noun, noun.upper()[:6]
    suffix = rng.randrange(2, 1000)
    return f"{noun} {suffix}", f"{noun[:4].upper()}{suffix}"

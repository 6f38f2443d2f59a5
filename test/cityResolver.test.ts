import { describe, expect, it } from 'vitest';
import { cityTokens, createCityResolver } from '../src/sources/cityResolver.js';

const ALIASES = [
  { alias: 'Москва', city: 'Москва' },
  { alias: 'moscow', city: 'Москва' },
  { alias: 'msk', city: 'Москва' },
  { alias: 'мск', city: 'Москва' },
  { alias: 'СПб', city: 'Санкт-Петербург' },
  { alias: 'spb', city: 'Санкт-Петербург' },
  { alias: 'Санкт-Петербург', city: 'Санкт-Петербург' },
  { alias: 'saint petersburg', city: 'Санкт-Петербург' },
  { alias: 'Нижний Новгород', city: 'Нижний Новгород' },
  { alias: 'nizhny novgorod', city: 'Нижний Новгород' },
  { alias: 'Новгород', city: 'Великий Новгород' },
  { alias: 'Казань', city: 'Казань' },
  { alias: 'kazan', city: 'Казань' },
  { alias: 'Томск', city: 'Томск' },
  { alias: 'Омск', city: 'Омск' },
  { alias: 'Орёл', city: 'Орёл' },
  { alias: 'ekb', city: 'Екатеринбург' },
];

describe('createCityResolver', () => {
  const resolve = createCityResolver(ALIASES);

  it('finds a city word in an ad plan name, whatever the case', () => {
    expect(resolve(['Щелкунчик Москва'])).toBe('Москва');
    expect(resolve(['ХОЛОДНОЕ СЕРДЦЕ спб'])).toBe('Санкт-Петербург');
  });

  it('treats underscores and hyphens in UTM values as word separators', () => {
    expect(resolve(['spb_autumn'])).toBe('Санкт-Петербург');
    expect(resolve(['moscow-25-45'])).toBe('Москва');
    expect(resolve(['kitchen_kazan_2025'])).toBe('Казань');
  });

  it('matches multi-word aliases as consecutive words, in any separator style', () => {
    expect(resolve(['Санкт Петербург мамы 25-40'])).toBe('Санкт-Петербург');
    expect(resolve(['санкт-петербург'])).toBe('Санкт-Петербург');
    expect(resolve(['utm_term=saint_petersburg'])).toBe('Санкт-Петербург');
    expect(resolve(['nizhny-novgorod'])).toBe('Нижний Новгород');
    // The longer alias wins at the same position: "Нижний Новгород" is not "Великий Новгород".
    expect(resolve(['Кухни Нижний Новгород'])).toBe('Нижний Новгород');
    expect(resolve(['Новгород 30-55'])).toBe('Великий Новгород');
    // Words that are not consecutive do not form the alias.
    expect(resolve(['saint and petersburg'])).toBe('');
  });

  it('never matches part of a word', () => {
    expect(resolve(['Томск широкая'])).toBe('Томск');
    expect(resolve(['томская область'])).toBe('');
    expect(resolve(['mskorp'])).toBe('');
    expect(resolve(['spb2025'])).toBe('');
  });

  it('treats ё as е on both sides', () => {
    expect(resolve(['Спектакль Орел'])).toBe('Орёл');
    expect(resolve(['Спектакль Орёл'])).toBe('Орёл');
  });

  it('returns the city of the first text (in order) that has any alias', () => {
    // utm_campaign is a numeric group id, utm_content a banner id; the term names the city.
    expect(
      resolve(['107921416', '179270031', 'kazan', 'Москва 25-45', 'Щелкунчик Москва', 'Креатив 1']),
    ).toBe('Казань');
    expect(resolve(['', '', '', 'Регионы', 'Кухни все города', 'Креатив 1'])).toBe('');
    expect(resolve(['', '', '', 'Регионы', 'Холодное сердце СПб', 'Креатив 1'])).toBe('Санкт-Петербург');
  });

  it('inside one text, the leftmost alias wins', () => {
    expect(resolve(['Москва и СПб'])).toBe('Москва');
    expect(resolve(['СПб и Москва'])).toBe('Санкт-Петербург');
  });

  it('returns "" for no texts, empty texts or an empty dictionary', () => {
    expect(resolve([])).toBe('');
    expect(resolve(['', '   ', '---'])).toBe('');
    expect(createCityResolver([])(['Москва'])).toBe('');
  });

  it('keeps the first row when an alias repeats, and ignores aliases without letters', () => {
    const r = createCityResolver([
      { alias: 'Новгород', city: 'Великий Новгород' },
      { alias: 'новгород', city: 'Нижний Новгород' },
      { alias: ' - ', city: 'Нигде' },
    ]);
    expect(r(['новгород'])).toBe('Великий Новгород');
    expect(r(['-'])).toBe('');
  });
});

describe('cityTokens', () => {
  it('splits on anything that is not a letter or a digit', () => {
    expect(cityTokens('Щелкунчик NEW (Томск)')).toEqual(['щелкунчик', 'new', 'томск']);
    expect(cityTokens('moscow-25_45')).toEqual(['moscow', '25', '45']);
    expect(cityTokens('Ёлка')).toEqual(['елка']);
  });
});

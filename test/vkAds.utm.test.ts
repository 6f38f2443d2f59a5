import { describe, expect, it } from 'vitest';
import { resolveUtm, VK_DEFAULT_UTM_TEMPLATE } from '../src/sources/vkAds/index.js';

const macros = {
  adPlanId: 14253674,
  adPlanName: 'Щелкунчик Москва',
  adGroupId: 107921416,
  adGroupName: 'Москва 25-45',
  bannerId: 179270031,
};

describe('resolveUtm', () => {
  it('expands every documented macro; {{campaign_id}} is the ad group id', () => {
    const tags = resolveUtm({
      enableUtm: true,
      groupTemplate:
        'utm_source={{ad_plan_id}}&utm_medium={{ad_group_id}}&utm_campaign={{campaign_id}}&utm_content={{banner_id}}&utm_term={{ad_plan_name}}|{{campaign_name}}|{{ad_group_name}}',
      landingUrl: '',
      macros,
    });
    expect(tags).toEqual({
      utmSource: '14253674',
      utmMedium: '107921416',
      utmCampaign: '107921416',
      utmContent: '179270031',
      utmTerm: 'Щелкунчик Москва|Москва 25-45|Москва 25-45',
    });
  });

  it('leaves unknown macros empty and then falls back to the link', () => {
    const tags = resolveUtm({
      enableUtm: true,
      groupTemplate: 'utm_term={{geo}}&utm_content={{random}}x',
      landingUrl: 'https://irs-show.ru/?utm_term=kazan&utm_content=a',
      macros,
    });
    expect(tags.utmTerm).toBe('kazan');
    expect(tags.utmContent).toBe('x');
  });

  it('group template wins over the link for the same key; other link tags stay', () => {
    const tags = resolveUtm({
      enableUtm: true,
      groupTemplate: 'utm_source=vk_ads&utm_campaign={{campaign_id}}',
      landingUrl: 'https://irs-show.ru/spb?utm_source=vk&utm_campaign=spb_autumn&utm_medium=post',
      macros,
    });
    expect(tags).toMatchObject({ utmSource: 'vk_ads', utmCampaign: '107921416', utmMedium: 'post' });
  });

  it('decodes percent-encoding and plus signs, and encoded macros still expand', () => {
    const tags = resolveUtm({
      enableUtm: undefined,
      groupTemplate:
        '?utm_campaign=%D0%9C%D0%BE%D1%81%D0%BA%D0%B2%D0%B0+25&utm_content=%7B%7Bbanner_id%7D%7D',
      landingUrl: 'not a url',
      macros,
    });
    expect(tags).toMatchObject({ utmCampaign: 'Москва 25', utmContent: '179270031' });
  });

  it('enable_utm false ignores the template; enable_utm true without one uses the automatic template', () => {
    expect(
      resolveUtm({
        enableUtm: false,
        groupTemplate: 'utm_source=vk_ads',
        landingUrl: 'https://x.ru/?utm_source=vk',
        macros,
      }).utmSource,
    ).toBe('vk');
    const auto = resolveUtm({ enableUtm: true, groupTemplate: null, landingUrl: '', macros });
    expect(auto).toEqual(
      resolveUtm({ enableUtm: true, groupTemplate: VK_DEFAULT_UTM_TEMPLATE, landingUrl: '', macros }),
    );
    expect(auto).toMatchObject({
      utmSource: 'vk_ads',
      utmMedium: 'cpc',
      utmCampaign: '107921416',
      utmContent: '179270031',
    });
    expect(resolveUtm({ enableUtm: undefined, groupTemplate: null, landingUrl: '', macros }).utmSource).toBe(
      '',
    );
  });
});

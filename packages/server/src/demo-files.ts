/**
 * The embedded demo's files: what a small Cisco deployment's TFTP folders hold. They are
 * generated here rather than shipped as assets so that the bundled package carries them.
 */

/** A phone as the demo's clusters know it. */
export interface DemoPhone {
  readonly mac: string;
  readonly model: string;
  readonly protocol: 'SIP' | 'SCCP';
  readonly extension: string;
  readonly load: string;
}

/** `SEP<MAC>.cnf.xml`: call-control nodes with their ports, locale, service URLs (the shape CUCM writes). */
export function phoneConfigXml(phone: DemoPhone, cluster: { id: string; nodes: readonly string[] }): string {
  const members = cluster.nodes
    .map(
      (node, i) => `        <member priority="${i}">
          <callManager>
            <name>${node}</name>
            <ports>
              <ethernetPhonePort>2000</ethernetPhonePort>
              <sipPort>5060</sipPort>
              <securedSipPort>5061</securedSipPort>
            </ports>
            <processNodeName>${node}</processNodeName>
          </callManager>
        </member>`,
    )
    .join('\n');
  const first = cluster.nodes[0] ?? 'localhost';
  return `<?xml version="1.0" encoding="UTF-8"?>
<device xsi:type="axl:XIPPhone" ctiid="${Number.parseInt(phone.mac.slice(-4), 16)}" uuid="{${phone.mac.toLowerCase()}-demo}">
  <fullConfig>true</fullConfig>
  <deviceProtocol>${phone.protocol}</deviceProtocol>
  <sshUserId></sshUserId>
  <sshPassword></sshPassword>
  <devicePool uuid="{dp-${cluster.id}}">
    <revertPriority>0</revertPriority>
    <name>DP_${cluster.id.toUpperCase().replace(/-/g, '_')}</name>
    <dateTimeSetting>
      <name>CMLocal</name>
      <dateTemplate>M/D/Y</dateTemplate>
      <timeZone>Pacific Standard/Daylight Time</timeZone>
      <olsonTimeZone>America/Los_Angeles</olsonTimeZone>
    </dateTimeSetting>
    <callManagerGroup>
      <name>CMG_${cluster.id.toUpperCase().replace(/-/g, '_')}</name>
      <tftpDefault>true</tftpDefault>
      <members>
${members}
      </members>
    </callManagerGroup>
  </devicePool>
  <sipProfile>
    <sipProxies>
      <registerWithProxy>true</registerWithProxy>
    </sipProxies>
    <sipLines>
      <line button="1" lineIndex="1">
        <featureID>9</featureID>
        <featureLabel>${phone.extension}</featureLabel>
        <name>${phone.extension}</name>
        <displayName>Extension ${phone.extension}</displayName>
        <contact>${phone.extension}</contact>
        <autoAnswer><autoAnswerEnabled>2</autoAnswerEnabled></autoAnswer>
        <callWaiting>3</callWaiting>
      </line>
    </sipLines>
    <dialTemplate>dialplan.xml</dialTemplate>
  </sipProfile>
  <commonProfile>
    <phonePassword></phonePassword>
    <backgroundImageAccess>true</backgroundImageAccess>
    <callLogBlfEnabled>2</callLogBlfEnabled>
  </commonProfile>
  <loadInformation>${phone.load}</loadInformation>
  <vendorConfig>
    <disableSpeaker>false</disableSpeaker>
    <pcPort>0</pcPort>
    <webAccess>1</webAccess>
    <loggingDisplay>1</loggingDisplay>
  </vendorConfig>
  <userLocale>
    <name>English_United_States</name>
    <uid>1</uid>
    <langCode>en_US</langCode>
    <version>14.0.0.1(1)</version>
    <winCharSet>iso-8859-1</winCharSet>
  </userLocale>
  <networkLocale>United_States</networkLocale>
  <networkLocaleInfo>
    <name>United_States</name>
    <uid>64</uid>
    <version>14.0.0.1(1)</version>
  </networkLocaleInfo>
  <deviceSecurityMode>1</deviceSecurityMode>
  <idleTimeout>0</idleTimeout>
  <authenticationURL>http://${first}:8080/ccmcip/authenticate.jsp</authenticationURL>
  <directoryURL>http://${first}:8080/ccmcip/xmldirectory.jsp</directoryURL>
  <servicesURL>http://${first}:8080/ccmcip/getservicesmenu.jsp</servicesURL>
  <transportLayerProtocol>2</transportLayerProtocol>
  <dndCallAlert>5</dndCallAlert>
  <capfAuthMode>0</capfAuthMode>
  <certHash></certHash>
  <encrConfig>false</encrConfig>
  <deviceName>SEP${phone.mac}</deviceName>
  <model>${phone.model}</model>
</device>
`;
}

const RING_LIST = `<CiscoIPPhoneRingList>
  <Ring>
    <DisplayName>Chirp1</DisplayName>
    <FileName>Chirp1.raw</FileName>
  </Ring>
  <Ring>
    <DisplayName>Chirp2</DisplayName>
    <FileName>Chirp2.raw</FileName>
  </Ring>
  <Ring>
    <DisplayName>Analog Synth 1</DisplayName>
    <FileName>Analog1.raw</FileName>
  </Ring>
</CiscoIPPhoneRingList>
`;

const G3_TONES = `<?xml version="1.0" encoding="UTF-8"?>
<tones country="United_States" version="14.0.0.1(1)">
  <tone name="dial" frequencies="350,440" cadence="continuous" level="-13"/>
  <tone name="ringback" frequencies="440,480" cadence="2000,4000" level="-19"/>
  <tone name="busy" frequencies="480,620" cadence="500,500" level="-24"/>
  <tone name="reorder" frequencies="480,620" cadence="250,250" level="-24"/>
  <tone name="callWaiting" frequencies="440" cadence="300,9700" level="-23"/>
</tones>
`;

const DIAL_PLAN = `<DIALTEMPLATE>
  <TEMPLATE MATCH="911" Timeout="0" User="Phone"/>
  <TEMPLATE MATCH="9,1.........." Timeout="0" User="Phone"/>
  <TEMPLATE MATCH="4..." Timeout="0" User="Phone"/>
  <TEMPLATE MATCH="*" Timeout="5" User="Phone"/>
</DIALTEMPLATE>
`;

const XML_DEFAULT = `<Default>
  <callManagerGroup>
    <members>
      <member priority="0">
        <callManager>
          <ports><ethernetPhonePort>2000</ethernetPhonePort><sipPort>5060</sipPort></ports>
          <processNodeName>cucm-a-pub.a.example.com</processNodeName>
        </callManager>
      </member>
    </members>
  </callManagerGroup>
  <loadInformation model="Cisco 8845">sip8845_65.14-2-1-0201-60</loadInformation>
  <loadInformation model="Cisco 7841">sip78xx.14-2-1-0201-60</loadInformation>
  <authenticationURL></authenticationURL>
  <directoryURL></directoryURL>
  <idleURL></idleURL>
  <informationURL></informationURL>
  <messagesURL></messagesURL>
  <servicesURL></servicesURL>
</Default>
`;

/** The demo clusters: each is a TFTP server of its own with its phones' files. */
export const DEMO_CLUSTERS = [
  {
    id: 'cluster-b',
    fqdn: 'tftp.b.example.com',
    description: 'Demo remote cluster B (Berlin)',
    nodes: ['cucm-b-pub.b.example.com', 'cucm-b-sub1.b.example.com'],
    phones: [
      {
        mac: '00AABBCC0B01',
        model: 'Cisco 8845',
        protocol: 'SIP',
        extension: '4101',
        load: 'sip8845_65.14-2-1-0201-60',
      },
      {
        mac: '00AABBCC0B02',
        model: 'Cisco 7841',
        protocol: 'SIP',
        extension: '4102',
        load: 'sip78xx.14-2-1-0201-60',
      },
    ],
  },
  {
    id: 'cluster-c',
    fqdn: 'tftp.c.example.com',
    description: 'Demo remote cluster C (Chicago)',
    nodes: ['cucm-c-pub.c.example.com'],
    phones: [
      {
        mac: '00AABBCC0C01',
        model: 'Cisco 8865',
        protocol: 'SIP',
        extension: '5101',
        load: 'sip8845_65.14-2-1-0201-60',
      },
    ],
  },
] as const satisfies readonly {
  id: string;
  fqdn: string;
  description: string;
  nodes: readonly string[];
  phones: readonly DemoPhone[];
}[];

/** The phone that lives in the proxy's own (local) cluster. */
export const DEMO_LOCAL_PHONE: DemoPhone = {
  mac: '00AABBCC0A01',
  model: 'Cisco 8845',
  protocol: 'SIP',
  extension: '3101',
  load: 'sip8845_65.14-2-1-0201-60',
};

/** The common-file patterns of the demo: served from the proxy's own copy, whatever a cluster holds. */
export const DEMO_COMMON_FILES = [
  'RingList.xml',
  'RingList.xml.sgn',
  'DistinctiveRingList.xml',
  'English_United_States/*',
];

/** Files of the proxy's local store. */
export function demoLocalFiles(): Record<string, string> {
  return {
    'RingList.xml': RING_LIST,
    'DistinctiveRingList.xml': RING_LIST.replace(/Chirp/g, 'Distinctive'),
    'English_United_States/g3-tones.xml': G3_TONES,
    'dialplan.xml': DIAL_PLAN,
    'XMLDefault.cnf.xml': XML_DEFAULT,
    [`SEP${DEMO_LOCAL_PHONE.mac}.cnf.xml`]: phoneConfigXml(DEMO_LOCAL_PHONE, {
      id: 'cluster-a',
      nodes: ['cucm-a-pub.a.example.com', 'cucm-a-sub1.a.example.com'],
    }),
  };
}

/** Files of one demo remote cluster, including its own RingList.xml that the proxy must not serve. */
export function demoClusterFiles(cluster: (typeof DEMO_CLUSTERS)[number]): Record<string, string> {
  const files: Record<string, string> = {
    'RingList.xml': RING_LIST.replace('Chirp1', `${cluster.id} ring`),
    'dialplan.xml': DIAL_PLAN,
  };
  for (const phone of cluster.phones) files[`SEP${phone.mac}.cnf.xml`] = phoneConfigXml(phone, cluster);
  return files;
}

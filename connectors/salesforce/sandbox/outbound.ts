/**
 * Outbound messages as Salesforce sends them: a SOAP `notifications` envelope with the OrganizationId, the
 * ActionId and one `Notification` per record (`sObject` with `xsi:type="sf:Contact"` and its fields).
 */

/** Builds the SOAP body Salesforce posts to an outbound-message listener. */
export function outboundMessage(options: {
  organizationId: string;
  type: string;
  records: Record<string, string | number | boolean | null>[];
  actionId?: string;
  sessionId?: string;
}): string {
  const escape = (text: string) =>
    text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const notifications = options.records
    .map((record, n) => {
      const fields = Object.entries(record)
        .map(([name, value]) =>
          value === null ? `<sf:${name} xsi:nil="true"/>` : `<sf:${name}>${escape(String(value))}</sf:${name}>`,
        )
        .join('');
      return `<Notification><Id>04l8d0000000${String(n).padStart(3, '0')}AAA</Id><sObject xsi:type="sf:${options.type}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">${fields}</sObject></Notification>`;
    })
    .join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
    '<soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">' +
    `<OrganizationId>${escape(options.organizationId)}</OrganizationId>` +
    `<ActionId>${escape(options.actionId ?? '04k8d0000000001AAA')}</ActionId>` +
    `<SessionId xsi:nil="true"/>` +
    `<EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/62.0/${escape(options.organizationId)}</EnterpriseUrl>` +
    `<PartnerUrl>https://example.my.salesforce.com/services/Soap/u/62.0/${escape(options.organizationId)}</PartnerUrl>` +
    notifications +
    '</notifications></soapenv:Body></soapenv:Envelope>'
  );
}

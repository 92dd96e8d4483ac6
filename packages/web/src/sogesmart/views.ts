import type { ActivationPurpose, AppScreen, CustomerEvent } from "./machine.js";
import { APP, GUIDE } from "./words.js";

/**
 * What each screen of the app shows, as data: headings, texts, fields and buttons, in the guide's words
 * (words.ts). `<capkit-sogesmart-app>` draws a view and nothing else; a field's `name` is the key the effects
 * read. A view can depend on the activation under way (its purpose, whether the bank asks for the current
 * password).
 */
export interface ViewField {
  readonly name: string;
  readonly label: string;
  readonly hint?: string;
  readonly type: "text" | "password" | "date" | "email";
  readonly inputmode?: "numeric" | "email";
  readonly autocomplete: string;
  readonly maxlength?: number;
}

export interface ViewAction {
  readonly event: CustomerEvent;
  readonly label: string;
  /** `submit` sends the screen's form; `link` is drawn as a link-styled button. */
  readonly kind: "submit" | "button" | "link";
}

export interface View {
  readonly heading: string;
  readonly subheading?: string;
  readonly texts: readonly string[];
  readonly fields: readonly ViewField[];
  readonly actions: readonly ViewAction[];
  /** Label and value pairs (an operation's lines), drawn as a description list. */
  readonly details?: readonly (readonly [string, string])[];
  /** Texts under the form (before the last actions). */
  readonly footer?: { readonly text: string; readonly action: ViewAction };
}

export interface ViewContext {
  readonly purpose: ActivationPurpose;
  /** The activation's features ask for the customer's current (Sogenet) password (`password`). */
  readonly asksCurrentPassword: boolean;
  readonly name?: string;
  readonly reactivationReason?: string;
  /** « Pass Sécurité »: the operation shown, rendered from its bank-signed document (SoftDigipass.review). */
  readonly operation?: { readonly title: string; readonly lines: readonly (readonly [string, string])[] };
  /** The operation is the professional space's (« Pass Sécurité PRO »). */
  readonly pro?: boolean;
}

const identifiant: ViewField = {
  name: "identifiant",
  label: GUIDE.identifiant,
  hint: GUIDE.identifiantWhere,
  type: "text",
  inputmode: "numeric",
  autocomplete: "username",
  maxlength: 8,
};
const secret = (name: string, label: string, autocomplete: string, maxlength = 6): ViewField => ({
  name,
  label,
  type: "password",
  inputmode: "numeric",
  autocomplete,
  maxlength,
});
const home: ViewAction = { event: "home", label: GUIDE.home, kind: "link" };
const submit: ViewAction = { event: "submit", label: GUIDE.submit, kind: "submit" };

const ACTIVATION_HEADINGS: Readonly<Record<ActivationPurpose, string>> = {
  first: GUIDE.activationFirst,
  "new-version": GUIDE.activationNewVersion,
  reactivation: GUIDE.activationAgain,
  "password-lost": GUIDE.passwordLost,
  qr: APP.qrHeading,
};

export function viewOf(screen: AppScreen, ctx: ViewContext): View {
  switch (screen) {
    case "welcome":
      return {
        heading: GUIDE.welcome,
        texts: [GUIDE.firstConnection],
        fields: [],
        actions: [
          { event: "yes", label: GUIDE.yes, kind: "button" },
          { event: "no", label: GUIDE.no, kind: "button" },
        ],
      };
    case "login":
      return {
        heading: GUIDE.connection,
        texts: [],
        fields: [
          {
            name: "login",
            label: GUIDE.login,
            type: "text",
            inputmode: "numeric",
            autocomplete: "username",
            maxlength: 8,
          },
          secret("password", GUIDE.password, "current-password"),
        ],
        actions: [submit, { event: "lost", label: GUIDE.lost, kind: "link" }],
        footer: {
          text: GUIDE.noDigitalAccess,
          action: { event: "activate", label: GUIDE.activateAccount, kind: "button" },
        },
      };
    case "activation":
      return {
        heading: ACTIVATION_HEADINGS[ctx.purpose],
        subheading: GUIDE.activationSogesmart,
        texts: [GUIDE.enterIdentifiant],
        fields: [identifiant],
        actions: [
          submit,
          { event: "scan", label: APP.scan, kind: "link" },
          { event: "noSogenet", label: GUIDE.noSogenet, kind: "link" },
          home,
        ],
      };
    case "qr":
      return {
        heading: APP.qrHeading,
        subheading: GUIDE.activationSogesmart,
        texts: [APP.qrHelp],
        fields: [{ name: "qr", label: APP.qrContent, type: "text", autocomplete: "off", maxlength: 400 }],
        actions: [submit, home],
      };
    case "sms":
      return {
        heading: GUIDE.smsReceived,
        texts: [GUIDE.enterSms],
        fields: [{ ...secret("sms", APP.smsCode, "one-time-code", 9), type: "text" }],
        actions: [submit, home],
      };
    case "authentication":
      return {
        heading: GUIDE.authentication,
        texts: [GUIDE.firstConnectionNewPassword],
        fields: [
          ...(ctx.asksCurrentPassword
            ? [
                {
                  ...secret("current", GUIDE.currentPassword, "current-password"),
                  hint: APP.currentPasswordHint,
                },
              ]
            : []),
          secret("next", GUIDE.newPassword, "new-password"),
          secret("confirm", GUIDE.confirmPassword, "new-password"),
        ],
        actions: [submit, home],
      };
    case "subscription":
      return {
        heading: GUIDE.subscriptionRequest,
        subheading: GUIDE.subscription,
        texts: [GUIDE.fillForm],
        fields: [
          {
            name: "firstName",
            label: GUIDE.firstName,
            type: "text",
            autocomplete: "given-name",
            maxlength: 64,
          },
          {
            name: "lastName",
            label: GUIDE.lastName,
            type: "text",
            autocomplete: "family-name",
            maxlength: 64,
          },
          { name: "birthDate", label: GUIDE.birthDate, type: "date", autocomplete: "bday" },
          {
            name: "email",
            label: GUIDE.email,
            type: "email",
            inputmode: "email",
            autocomplete: "email",
            maxlength: 254,
          },
          {
            name: "account",
            label: GUIDE.account,
            type: "text",
            inputmode: "numeric",
            autocomplete: "off",
            maxlength: 11,
          },
        ],
        actions: [
          { event: "accept", label: GUIDE.acceptConditions, kind: "submit" },
          { event: "refuse", label: GUIDE.refuseConditions, kind: "button" },
          home,
        ],
      };
    case "subscribed":
      return { heading: GUIDE.subscription, texts: [APP.subscribed], fields: [], actions: [home] };
    case "password-lost":
      return {
        heading: GUIDE.passwordLost,
        texts: [GUIDE.resetPassword],
        fields: [identifiant],
        actions: [submit, { event: "back", label: APP.back, kind: "link" }, home],
      };
    case "home":
      return {
        heading: APP.accounts,
        texts: ctx.name ? [APP.welcomeName(ctx.name)] : [],
        fields: [],
        actions: [
          { event: "operations", label: APP.passSecurite, kind: "button" },
          { event: "settings", label: APP.settings, kind: "button" },
          { event: "logout", label: APP.logout, kind: "button" },
        ],
      };
    case "approval":
      return {
        heading: ctx.pro ? APP.passSecuriteProHeading : APP.passSecuriteHeading,
        ...(ctx.operation ? { subheading: ctx.operation.title } : {}),
        texts: [APP.reviewHelp],
        ...(ctx.operation ? { details: ctx.operation.lines } : {}),
        fields: [secret("password", GUIDE.password, "current-password")],
        actions: [
          { event: "submit", label: APP.accept, kind: "submit" },
          { event: "decline", label: APP.decline, kind: "button" },
          { event: "back", label: APP.back, kind: "link" },
        ],
      };
    case "settings":
      return {
        heading: APP.settingsHeading,
        subheading: APP.changePassword,
        texts: [],
        fields: [
          secret("current", GUIDE.currentPassword, "current-password"),
          secret("next", GUIDE.newPassword, "new-password"),
          secret("confirm", GUIDE.confirmPassword, "new-password"),
        ],
        actions: [submit, { event: "back", label: APP.back, kind: "link" }],
      };
    case "reactivation":
      return {
        heading: GUIDE.activationAgain,
        texts: [APP.reactivation[ctx.reactivationReason ?? "other"] ?? APP.reactivation["other"]!],
        fields: [],
        actions: [{ event: "activate", label: APP.reactivate, kind: "button" }, home],
      };
  }
}

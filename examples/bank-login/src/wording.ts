/**
 * What the banks say, in one place. SOGENET's texts are the bank's own, word for word from its customer guides
 * (« Aide à la connexion SOGENET », the SogeSmart help); the number of failures that locks comes from the
 * verifier's policy, never written twice.
 */
export const SOGENET = {
  wrong: "Identifiant ou mot de passe incorrect.",
  locked: (max: number) =>
    `Votre compte a été bloqué suite à ${max} tentatives de saisie d'un mot de passe erroné`,
  lastTry: "Attention : au prochain mot de passe erroné, votre accès sera bloqué.",
  wrongCurrent: "Veuillez vérifier la saisie de votre mot de passe actuel",
  changeNow: "Pour des mesures de sécurité, nous vous invitons à changer immédiatement votre mot de passe.",
  changedByAdviser:
    "Votre mot de passe a été modifié par l'administrateur du serveur de votre banque. Pour des mesures de sécurité, nous vous invitons à changer immédiatement votre mot de passe.",
  noMenuBeforeChange:
    "Vous ne pouvez accéder aux fonctionnalités du menu tant que vous n'avez pas changé votre mot de passe",
  changed: [
    "Le changement de mot de passe a été enregistré.",
    "Vous pouvez accéder librement aux différents menus SOGENET",
  ],
  keypadExpired: "Le clavier a expiré : saisissez de nouveau votre mot de passe.",
} as const;

export const COOPANET = {
  wrong:
    "Code utilisateur ou code Sésame incorrect. Chaque code ne sert qu'une fois : générez-en un nouveau avec le lecteur.",
  locked: (max: number) =>
    `Votre accès Coop@net est bloqué suite à ${max} codes erronés. Contactez votre agence pour le débloquer.`,
  lastTry: "Attention : au prochain code erroné, votre accès sera bloqué.",
  wrongSignature: "Code de signature incorrect : signez de nouveau avec ce nouveau défi.",
  transferCancelled: "Le virement a été annulé.",
} as const;

export const SESSION = {
  notLoggedIn: "Vous n'êtes pas connecté, ou votre session a expiré : connectez-vous.",
  loggedOut: "Vous êtes déconnecté.",
  formExpired: "Votre session a expiré ou le formulaire n'est pas valide : rechargez la page.",
  otherBank: (mine: string, theirs: string) =>
    `Cette page est celle de ${theirs} : vous êtes connecté à ${mine}.`,
  throttled: (seconds: number) =>
    `Trop de tentatives depuis votre connexion : réessayez dans ${seconds} seconde${seconds > 1 ? "s" : ""}.`,
  idleWarning: "Sans action de votre part, vous serez déconnecté dans une minute.",
} as const;

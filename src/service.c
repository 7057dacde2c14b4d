/* SPDX-License-Identifier: ISC */
/*
 * service.c: the table of services a listener can run.  A new service is
 * one service-NAME.c file and one line here.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "service.h"

static const struct service *const services[] = {
	&service_echo,
	&service_discard,
	&service_chargen,
	&service_daytime,
	&service_chat,
};

const struct service *
service_find(const char *name)
{
	for (size_t i = 0; i < sizeof services / sizeof services[0]; i++)
		if (strcmp(services[i]->name, name) == 0)
			return services[i];
	return NULL;
}

/* The service whose own key this is (struct service.keys), or NULL: any listener's. */
const struct service *
service_key_owner(const char *key)
{
	for (size_t i = 0; i < sizeof services / sizeof services[0]; i++)
		for (const char *const *k = services[i]->keys; k != NULL && *k != NULL; k++)
			if (strcmp(*k, key) == 0)
				return services[i];
	return NULL;
}

/* "echo, discard, ...", for error messages. */
const char *
service_names(void)
{
	static char names[128];
	size_t len = 0;
	int n;

	if (names[0] == '\0') {
		for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
			n = snprintf(names + len, sizeof names - len, "%s%s", i > 0 ? ", " : "",
			    services[i]->name);
			if (n < 0 || (size_t)n >= sizeof names - len)
				break; /* cut short, and still a string */
			len += (size_t)n;
		}
	}
	return names;
}
